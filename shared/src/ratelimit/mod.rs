//! Rate limits (SECURITY.md 26). Every request counts against a token bucket per client IP;
//! sign-in, sign-up, `/authorize` and the token endpoints have stricter ones per IP (a
//! sliding window for sign-up); `/token` also limits each client, and the task API each
//! user. A refused request answers 429 with `Retry-After` and `RateLimit-*` headers. An IP
//! that keeps being refused is blocked for a while, longer each time (progressive penalty).
//!
//! With `REDIS_URL` the counts live in Redis, shared by every instance; while Redis does
//! not answer, each instance counts on its own rather than failing requests.

pub mod exempt;
mod local;
mod redis_store;
pub mod rules;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

pub use self::exempt::exempting;
use self::local::LocalStore;
use self::redis_store::RedisStore;
pub use self::rules::Decision;
use crate::audit::{AuditEvent, AuditLog};
pub use crate::config::rate_limits::{
    BLOCK_MEMORY, MAX_BLOCK, Penalty, RateLimitSettings, Rule, RuleKind, VIOLATIONS_BEFORE_BLOCK,
};

/// What the store says of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed; the decision of the rule with the least room left, if any rule applied.
    Allowed(Option<Decision>),
    Refused(Decision),
    /// The IP is blocked for repeated refusals.
    Blocked {
        wait_us: u64,
    },
}

impl Verdict {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed(_))
    }

    /// Whole seconds until a retry can succeed (at least 1), for refusals.
    pub fn retry_after_secs(&self) -> u64 {
        match self {
            Self::Allowed(_) => 0,
            Self::Refused(decision) => decision.wait_us.div_ceil(1_000_000).max(1),
            Self::Blocked { wait_us } => wait_us.div_ceil(1_000_000).max(1),
        }
    }

    /// Of two verdicts on one request, the one to show: a refusal over an allowance (the
    /// longer wait of two refusals), else the rule with less room left.
    pub fn tighter(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Self::Allowed(a), Self::Allowed(b)) => match (a, b) {
                (Some(a), Some(b)) if b.remaining < a.remaining => other,
                (None, Some(_)) => other,
                _ => self,
            },
            (Self::Allowed(_), _) => other,
            (_, Self::Allowed(_)) => self,
            _ if other.retry_after_secs() > self.retry_after_secs() => other,
            _ => self,
        }
    }

    /// `Retry-After` on refusals, and the `RateLimit-Limit`, `-Remaining` and `-Reset`
    /// fields (draft-ietf-httpapi-ratelimit-headers) of the tightest rule.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let mut put = |name: &'static str, value: u64| {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        };
        let decision = match self {
            Self::Allowed(decision) => *decision,
            Self::Refused(decision) => Some(*decision),
            Self::Blocked { .. } => None,
        };
        if let Some(decision) = decision {
            put("ratelimit-limit", u64::from(decision.limit));
            put("ratelimit-remaining", u64::from(decision.remaining));
            put("ratelimit-reset", decision.wait_us.div_ceil(1_000_000));
        }
        if !self.is_allowed() {
            put(RETRY_AFTER.as_str(), self.retry_after_secs());
        }
    }
}

/// What a request is counted against, besides its IP's overall bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every request, per IP.
    Ip,
    /// `POST /login`, per IP.
    Login,
    /// `POST /register`, per IP (sliding window).
    Register,
    /// `/authorize`, per IP.
    Authorize,
    /// `/token`, `/revoke`, `/introspect`, per IP.
    Token,
    /// `/token`, per authenticated client.
    Client,
    /// The task API, per user (or per client, for a token that acts for none).
    User,
}

impl Scope {
    /// Whether the scope counts per IP (a refusal then counts towards blocking the IP);
    /// the others count per client or user, wherever the requests come from.
    fn is_per_ip(self) -> bool {
        !matches!(self, Self::Client | Self::User)
    }

    fn key_part(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Login => "login",
            Self::Register => "register",
            Self::Authorize => "authorize",
            Self::Token => "token",
            Self::Client => "client",
            Self::User => "user",
        }
    }
}

impl Penalty {
    fn block_us(&self, strikes: u32) -> u64 {
        let doubling = 1u64
            .checked_shl(strikes.saturating_sub(1))
            .unwrap_or(u64::MAX);
        self.base_block_us
            .saturating_mul(doubling)
            .min(self.max_block_us)
    }
}

impl RateLimitSettings {
    /// The rule for a scope.
    pub fn rule(&self, scope: Scope) -> Rule {
        match scope {
            Scope::Ip => self.per_ip,
            Scope::Login => self.login,
            Scope::Register => self.register,
            Scope::Authorize => self.authorize,
            Scope::Token => self.token,
            Scope::Client => self.per_client,
            Scope::User => self.per_user,
        }
    }
}

/// Decides whether a request may go on. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: RateLimitSettings,
    local: LocalStore,
    shared: Option<RedisStore>,
    /// Where blocks are recorded as security events.
    audit: Option<AuditLog>,
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// What limits count an address by: an IPv4 address, or an IPv6 /64 — one subscriber's
/// network, since anyone holding a /64 could otherwise use a fresh address per request.
pub fn ip_key(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V6(v6)) => v6.to_canonical().to_string(),
        Ok(v4) => v4.to_string(),
        Err(_) => "unknown".to_owned(),
    }
}

impl Limiter {
    /// With a Redis URL the counts are shared (if Redis does not answer at once, the
    /// connection is retried in the background); call from within the server's runtime.
    /// Blocks are recorded in `audit`.
    pub async fn new(
        settings: &RateLimitSettings,
        audit: Option<AuditLog>,
    ) -> Result<Self, String> {
        let shared = match &settings.redis_url {
            Some(url) if settings.enabled => Some(RedisStore::connect(url.expose()).await?),
            _ => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                settings: settings.clone(),
                local: LocalStore::default(),
                shared,
                audit,
            }),
        })
    }

    pub fn enabled(&self) -> bool {
        self.inner.settings.enabled
    }

    /// `{prefix}{subject}:part`: the braces are a Redis Cluster hash tag, so every key of
    /// one address lands in one slot and a script may touch them together.
    fn key(&self, subject: &str, part: &str) -> String {
        format!(
            "{}{{{subject}}}:{part}",
            self.inner.settings.redis_key_prefix
        )
    }

    /// Checks a request from `ip` against the per-IP `scopes` (the overall bucket is one of
    /// them only if listed), after refusing a blocked address. A refusal counts towards
    /// blocking the address.
    pub async fn check_ip(&self, ip: &str, scopes: &[Scope]) -> Verdict {
        if !self.enabled() {
            return Verdict::Allowed(None);
        }
        let ip = ip_key(ip);
        let block_key = self.key(&ip, "block");
        let checks: Vec<(String, Rule)> = scopes
            .iter()
            .filter(|scope| scope.is_per_ip())
            .map(|scope| {
                (
                    self.key(&ip, scope.key_part()),
                    self.inner.settings.rule(*scope),
                )
            })
            .collect();
        let verdict = self.decide(Some(&block_key), &checks).await;
        match verdict {
            Verdict::Refused(decision) => {
                crate::metrics::count_refusal(self.refusing_scope(scopes, decision));
                self.strike(&ip, &block_key).await;
            }
            Verdict::Blocked { .. } => crate::metrics::count_refusal("blocked"),
            Verdict::Allowed(_) => {}
        }
        verdict
    }

    /// Of the per-IP `scopes` checked, the one whose rule gave the refusal `decision` (the
    /// first with its limit: the metrics' `rule` label).
    fn refusing_scope(&self, scopes: &[Scope], decision: Decision) -> &'static str {
        scopes
            .iter()
            .filter(|scope| scope.is_per_ip())
            .find(|scope| self.inner.settings.rule(**scope).limit == decision.limit)
            .map_or("ip", |scope| scope.key_part())
    }

    /// Checks a request of one client or user (`Scope::Client`, `Scope::User`), wherever
    /// it comes from. A refusal does not count against the address: one heavy user must
    /// not get everyone behind the same NAT blocked.
    pub async fn check_caller(&self, scope: Scope, subject: &str) -> Verdict {
        if !self.enabled() || scope.is_per_ip() {
            return Verdict::Allowed(None);
        }
        let checks = [(
            self.key(subject, scope.key_part()),
            self.inner.settings.rule(scope),
        )];
        let verdict = self.decide(None, &checks).await;
        if !verdict.is_allowed() {
            crate::metrics::count_refusal(scope.key_part());
        }
        verdict
    }

    async fn decide(&self, block_key: Option<&str>, checks: &[(String, Rule)]) -> Verdict {
        let shared = match &self.inner.shared {
            Some(redis) => {
                let member = format!("{}:{}", now_us(), rand::random::<u64>());
                redis.check(block_key, checks, &member).await
            }
            None => None,
        };
        shared.unwrap_or_else(|| self.inner.local.check(block_key, checks, now_us()))
    }

    async fn strike(&self, ip: &str, block_key: &str) {
        let penalty = &self.inner.settings.penalty;
        let violations_key = self.key(ip, "violations");
        let shared = match &self.inner.shared {
            Some(redis) => {
                redis
                    .strike(
                        &violations_key,
                        block_key,
                        &self.key(ip, "strikes"),
                        penalty,
                    )
                    .await
            }
            None => None,
        };
        let blocked = shared.unwrap_or_else(|| {
            self.inner
                .local
                .strike(&violations_key, block_key, penalty, now_us())
        });
        let Some(block_us) = blocked else { return };
        let event = AuditEvent::new("rate_limit_block")
            .ip(Some(ip))
            .detail(serde_json::json!({ "seconds": block_us.div_ceil(1_000_000) }));
        match &self.inner.audit {
            Some(audit) => audit.record(event),
            None => {
                tracing::warn!(target: "security", event = "rate_limit_block", ip = %ip, seconds = block_us.div_ceil(1_000_000))
            }
        }
    }
}

/// Runs `next` with no limit applied (exempt paths, limits off) — for a server's middleware.
pub async fn pass<B: actix_web::body::MessageBody + 'static>(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error> {
    Ok(next.call(req).await?.map_into_left_body())
}

/// Runs `next` if `verdict` allows; otherwise answers with `refusal`. Either way the answer
/// gets `Retry-After` and `RateLimit-*` once, for the tighter of `verdict` and whatever
/// verdict a handler left in the request's extensions (a per-client or per-user limit,
/// see [`note_verdict`]) — for a server's middleware.
pub async fn answer<B: actix_web::body::MessageBody + 'static>(
    verdict: Verdict,
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<B>,
    refusal: impl FnOnce(&Verdict) -> actix_web::HttpResponse,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error> {
    use actix_web::HttpMessage as _;
    if verdict.is_allowed() {
        let mut response = next.call(req).await?;
        let handlers = response.request().extensions().get::<Verdict>().copied();
        handlers
            .map_or(verdict, |inner| verdict.tighter(inner))
            .write_headers(response.headers_mut());
        return Ok(response.map_into_left_body());
    }
    let mut response = refusal(&verdict);
    verdict.write_headers(response.headers_mut());
    Ok(req.into_response(response).map_into_right_body())
}

/// Leaves a handler's own verdict (per client or per user) for [`answer`] to report.
pub fn note_verdict(req: &actix_web::HttpRequest, verdict: Verdict) {
    use actix_web::HttpMessage as _;
    req.extensions_mut().insert(verdict);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_counted_per_ipv4_address_and_per_ipv6_network() {
        assert_eq!(ip_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(ip_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            ip_key("2001:db8:1:2:ffff::9"),
            ip_key("2001:db8:1:2::1"),
            "one /64"
        );
        assert_eq!(ip_key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(ip_key("not an address"), "unknown");
    }

    #[test]
    fn the_tighter_verdict_is_the_one_shown() {
        let allowed = |remaining| {
            Verdict::Allowed(Some(Decision {
                allowed: true,
                limit: 10,
                remaining,
                wait_us: 1,
            }))
        };
        let refused = |wait_us| {
            Verdict::Refused(Decision {
                allowed: false,
                limit: 3,
                remaining: 0,
                wait_us,
            })
        };
        assert_eq!(allowed(5).tighter(allowed(2)), allowed(2));
        assert_eq!(allowed(2).tighter(allowed(5)), allowed(2));
        assert_eq!(Verdict::Allowed(None).tighter(allowed(5)), allowed(5));
        assert_eq!(allowed(5).tighter(refused(1)), refused(1));
        assert_eq!(refused(1).tighter(allowed(5)), refused(1));
        assert_eq!(
            refused(1_000_000).tighter(refused(9_000_000)),
            refused(9_000_000)
        );
    }
}
