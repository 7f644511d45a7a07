//! The rate-limit settings (SECURITY.md 26), declared once each: a rule `N/period` per
//! scope (sign-up's a sliding window, the others token buckets), the first block's length,
//! and where the counts are shared (Redis).

use std::time::Duration;

use super::ConfigError;
use super::declare::Default::{Unset, Value};
use super::declare::{Setting, Source};
use super::secret::SecretString;
use crate::parse;
use crate::ratelimit::{self, Penalty, RateLimitSettings, Rule, RuleKind};

pub const REDIS_URL: Setting<SecretString> = Setting {
    name: "REDIS_URL",
    default: Unset,
    parse: secret,
    doc: r#"`redis://[:password@]host:port[/db]`: rate limits shared by every instance (see "Rate limits"); without it each instance counts alone"#,
};
pub const REDIS_KEY_PREFIX: Setting<String> = Setting {
    name: "REDIS_KEY_PREFIX",
    default: Value("oauth:rl:"),
    parse: text,
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
    doc: r#"sign-in attempts (`POST /login`) per IP"#,
};
pub const RATE_LIMIT_REGISTER: Setting<Rule> = Setting {
    name: "RATE_LIMIT_REGISTER",
    default: Value("20/1h"),
    parse: window,
    doc: r#"sign-ups (`POST /register`) per IP, as a sliding window"#,
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

fn text(value: &str) -> Result<String, String> {
    Ok(value.to_owned())
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
            violations: ratelimit::VIOLATIONS_BEFORE_BLOCK,
            base_block_us: micros(block),
            max_block_us: micros(ratelimit::MAX_BLOCK.max(block)),
            memory_us: micros(ratelimit::BLOCK_MEMORY),
        },
        redis_key_prefix: source.get(&REDIS_KEY_PREFIX)?,
    })
}
