//! The rate-limit settings (SECURITY.md 26), declared once each: a rule `N/period` per
//! scope (sign-up's a sliding window, the others token buckets), the first block's length,
//! and where the counts are shared (Redis). The types are settings, so they live here;
//! `crate::ratelimit` applies them.

use std::time::Duration;

use super::ConfigError;
use super::declare::Default::{Unset, Value};
use super::declare::{self, Setting, Source};
use super::secret::SecretString;
use crate::parse;

/// `limit` requests per `period`. As a token bucket: up to `limit` at once, refilled evenly
/// over `period`. As a sliding window: at most `limit` in any `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub limit: u32,
    pub period: Duration,
    pub kind: RuleKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Bucket,
    Window,
}

impl Rule {
    /// `"10/1m"` → 10 per minute. The period takes the same units as every duration
    /// setting (`90s`, `30m`, `24h`, `7d`).
    pub fn parse(value: &str, kind: RuleKind) -> Option<Self> {
        let (limit, period) = value.split_once('/')?;
        let limit: u32 = limit.trim().parse().ok()?;
        let period = crate::parse::duration(period.trim())?;
        (1..=1_000_000).contains(&limit).then_some(Self {
            limit,
            period,
            kind,
        })
    }

    pub fn period_us(&self) -> u64 {
        u64::try_from(self.period.as_micros()).unwrap_or(u64::MAX)
    }

    /// GCRA's emission interval, in whole microseconds: the time one request's token takes
    /// to come back. Rounded down, so a full burst always fits in the period (integers, so
    /// the in-process store and the Redis script agree to the microsecond).
    pub fn interval_us(&self) -> u64 {
        (self.period_us() / u64::from(self.limit)).max(1)
    }
}

/// Refusals that turn into a block, and how long blocks last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Penalty {
    /// Refusals allowed before a block (a bucket: 20 per 10 minutes by default).
    pub violations: Rule,
    pub base_block_us: u64,
    pub max_block_us: u64,
    /// How long past blocks count towards doubling the next one.
    pub memory_us: u64,
}

/// The limits, from the `RATE_LIMIT_*` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub per_ip: Rule,
    pub login: Rule,
    pub register: Rule,
    pub authorize: Rule,
    pub token: Rule,
    pub per_client: Rule,
    pub per_user: Rule,
    pub penalty: Penalty,
    /// Where the counts are shared by every instance; each counts alone without it.
    pub redis_url: Option<SecretString>,
    /// Prepended to every Redis key, so several deployments can share one Redis.
    pub redis_key_prefix: String,
}

/// Refusals within this bucket are tolerated; one more blocks the IP.
pub const VIOLATIONS_BEFORE_BLOCK: Rule = Rule {
    limit: 20,
    period: Duration::from_secs(600),
    kind: RuleKind::Bucket,
};
/// The longest block, however often an IP comes back.
pub const MAX_BLOCK: Duration = Duration::from_secs(3600);
/// Blocks within this long of each other double.
pub const BLOCK_MEMORY: Duration = Duration::from_secs(86_400);

pub const REDIS_URL: Setting<SecretString> = Setting {
    name: "REDIS_URL",
    default: Unset,
    parse: secret,
    doc: r#"`redis://[:password@]host:port[/db]`: rate limits shared by every instance (see "Rate limits"); without it each instance counts alone"#,
};
pub const REDIS_KEY_PREFIX: Setting<String> = Setting {
    name: "REDIS_KEY_PREFIX",
    default: Value("oauth:rl:"),
    parse: declare::text,
    doc: r#"prefix of every rate-limit key in Redis (several deployments can share one Redis)"#,
};
pub const RATE_LIMITS: Setting<bool> = Setting {
    name: "RATE_LIMITS",
    default: Value("on"),
    parse: parse::boolean,
    doc: r#"`off` switches every rate limit off"#,
};
pub const RATE_LIMIT_PER_IP: Setting<Rule> = Setting {
    name: "RATE_LIMIT_PER_IP",
    default: Value("6000/1m"),
    parse: bucket,
    doc: r#"every request from one IP, both servers (token bucket: the burst, refilled evenly over the period); raise it for busy server-side apps sharing one address"#,
};
pub const RATE_LIMIT_LOGIN: Setting<Rule> = Setting {
    name: "RATE_LIMIT_LOGIN",
    default: Value("10/1m"),
    parse: bucket,
    doc: r#"sign-in attempts (`POST /login`), password-reset requests and uses, and every form that asks for the password again (change password or email, delete account) per IP"#,
};
pub const RATE_LIMIT_REGISTER: Setting<Rule> = Setting {
    name: "RATE_LIMIT_REGISTER",
    default: Value("20/1h"),
    parse: window,
    doc: r#"sign-ups (`POST /register`) and verification mails sent again, per IP, as a sliding window"#,
};
pub const RATE_LIMIT_AUTHORIZE: Setting<Rule> = Setting {
    name: "RATE_LIMIT_AUTHORIZE",
    default: Value("60/1m"),
    parse: bucket,
    doc: r#"`/authorize` per IP"#,
};
pub const RATE_LIMIT_TOKEN: Setting<Rule> = Setting {
    name: "RATE_LIMIT_TOKEN",
    default: Value("300/1m"),
    parse: bucket,
    doc: r#"`POST /token`, `/revoke`, `/introspect` per IP"#,
};
pub const RATE_LIMIT_PER_CLIENT: Setting<Rule> = Setting {
    name: "RATE_LIMIT_PER_CLIENT",
    default: Value("600/1m"),
    parse: bucket,
    doc: r#"`POST /token` per authenticated client, from any IP"#,
};
pub const RATE_LIMIT_PER_USER: Setting<Rule> = Setting {
    name: "RATE_LIMIT_PER_USER",
    default: Value("1200/1m"),
    parse: bucket,
    doc: r#"task API requests per user (per client for a token that acts for none)"#,
};
pub const RATE_LIMIT_BLOCK: Setting<Duration> = Setting {
    name: "RATE_LIMIT_BLOCK",
    default: Value("5m"),
    parse: parse::duration_setting,
    doc: r#"the first block of an IP that keeps exceeding limits; doubles each time within a day, up to 1 h"#,
};

fn rule(value: &str, kind: RuleKind) -> Result<Rule, String> {
    Rule::parse(value, kind).ok_or_else(|| {
        format!("`{value}` is not a limit like 10/1m (1 to 1000000 requests per period)")
    })
}

fn bucket(value: &str) -> Result<Rule, String> {
    rule(value, RuleKind::Bucket)
}

fn window(value: &str) -> Result<Rule, String> {
    rule(value, RuleKind::Window)
}

fn secret(value: &str) -> Result<SecretString, String> {
    Ok(SecretString::new(value))
}

pub fn read(source: &mut Source) -> Result<RateLimitSettings, ConfigError> {
    let block = source.get(&RATE_LIMIT_BLOCK)?;
    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    Ok(RateLimitSettings {
        enabled: source.get(&RATE_LIMITS)?,
        per_ip: source.get(&RATE_LIMIT_PER_IP)?,
        login: source.get(&RATE_LIMIT_LOGIN)?,
        register: source.get(&RATE_LIMIT_REGISTER)?,
        authorize: source.get(&RATE_LIMIT_AUTHORIZE)?,
        token: source.get(&RATE_LIMIT_TOKEN)?,
        per_client: source.get(&RATE_LIMIT_PER_CLIENT)?,
        per_user: source.get(&RATE_LIMIT_PER_USER)?,
        penalty: Penalty {
            violations: VIOLATIONS_BEFORE_BLOCK,
            base_block_us: micros(block),
            max_block_us: micros(MAX_BLOCK.max(block)),
            memory_us: micros(BLOCK_MEMORY),
        },
        redis_url: source.optional(&REDIS_URL)?,
        redis_key_prefix: source.get(&REDIS_KEY_PREFIX)?,
    })
}
