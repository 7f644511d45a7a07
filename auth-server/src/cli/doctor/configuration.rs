//! The checks on the settings alone: the mode and the issuer, the key-encryption key,
//! rate limits, browser origins, where traces go, and every session, lockout and token lifetime held to
//! its default (read from the declarations, so a changed default moves the bar too).

use std::collections::HashMap;
use std::collections::HashSet;
use std::time::Duration;

use shared::config::{Mode, Settings};
use url::{Host, Url};

use super::report::{Finding, Severity};

/// Below this many estimated bits a `KEY_ENCRYPTION_KEY` is weak, whatever its length.
const KEK_MIN_BITS: f64 = 128.0;

/// The findings about `settings`, held against `defaults` (the settings with nothing
/// given, [`defaults`]).
pub fn check(settings: &Settings, defaults: &Settings) -> Vec<Finding> {
    let mut findings = Vec::new();
    check_mode(settings, &mut findings);
    check_key_encryption_key(settings, &mut findings);
    check_rate_limits(settings, &mut findings);
    check_origins(settings, &mut findings);
    check_trace_endpoint(settings, &mut findings);
    check_lifetimes(settings, defaults, &mut findings);
    findings
}

/// The settings with nothing given: every declared default.
pub fn defaults() -> Result<Settings, shared::config::ConfigError> {
    Settings::from_values(HashMap::new())
}

fn check_mode(settings: &Settings, findings: &mut Vec<Finding>) {
    if !settings.urls.issuer.starts_with("https://") {
        findings.push(Finding::new(
            Severity::High,
            "issuer-not-https",
            "ISSUER",
            format!(
                "the issuer is {}: cookies lose Secure and the __Host- prefix, no HSTS, and \
                 codes and tokens travel in the clear",
                settings.urls.issuer
            ),
            "set ISSUER to the public https URL, with TLS served by the servers \
             (TLS_CERT_FILE, TLS_KEY_FILE) or terminated by a reverse proxy in front (and \
             TRUST_PROXY_HEADERS=true)",
        ));
    }
    if settings.mode == Mode::Development {
        findings.push(Finding::new(
            Severity::Medium,
            "development-mode",
            "APP_ENV",
            "development mode: it starts without the secrets production insists on",
            "set APP_ENV=production, which refuses to start while a required setting is \
             missing",
        ));
    }
    if settings.mode == Mode::Production && !settings.database.url.is_postgres() {
        findings.push(Finding::new(
            Severity::Low,
            "sqlite-in-production",
            "DATABASE_URL",
            "SQLite serves one instance of each server on one machine",
            "use PostgreSQL to run several instances (README \"Running on PostgreSQL\")",
        ));
    }
    if settings.rate_limits.enabled && settings.rate_limits.redis_url.is_none() {
        findings.push(Finding::new(
            Severity::Low,
            "rate-limits-per-instance",
            "REDIS_URL",
            "without Redis each instance counts requests alone: with N instances a client \
             gets N times every budget",
            "set REDIS_URL when running more than one instance",
        ));
    }
}

fn check_key_encryption_key(settings: &Settings, findings: &mut Vec<Finding>) {
    let Some(key) = &settings.keys.encryption_key else {
        findings.push(Finding::new(
            Severity::High,
            "key-encryption-key-missing",
            "KEY_ENCRYPTION_KEY",
            "signing keys and TOTP secrets are stored unencrypted: a copy of the database is \
             enough to forge tokens",
            "set KEY_ENCRYPTION_KEY (or KEY_ENCRYPTION_KEY_FILE) to 32+ random characters, \
             e.g. `openssl rand -base64 32`, then `auth-server keys rotate`",
        ));
        return;
    };
    let bits = estimated_bits(key.expose());
    if bits < KEK_MIN_BITS {
        findings.push(Finding::new(
            Severity::High,
            "key-encryption-key-weak",
            "KEY_ENCRYPTION_KEY",
            format!(
                "the key-encryption key looks guessable (about {bits:.0} bits: few distinct \
                 characters or a repeated pattern)"
            ),
            "replace it with `openssl rand -base64 32`, then `auth-server keys rotate \
             --retire-previous-now` (keys sealed with the old one cannot be opened)",
        ));
    }
}

/// A generous upper estimate of a secret's entropy: its shortest repeating unit's length
/// times log2 of the number of distinct characters used. Random text scores its length
/// times 4 (hex) to 6 (base64) bits; `passwordpassword…` or one repeated word scores low.
fn estimated_bits(secret: &str) -> f64 {
    let chars: Vec<char> = secret.chars().collect();
    let distinct = chars.iter().collect::<HashSet<_>>().len();
    if distinct < 2 {
        return 0.0;
    }
    let unit = (1..=chars.len())
        .find(|&len| {
            chars.len().is_multiple_of(len) && chars.chunks(len).all(|chunk| chunk == &chars[..len])
        })
        .unwrap_or(chars.len());
    unit as f64 * (distinct as f64).log2()
}

fn check_rate_limits(settings: &Settings, findings: &mut Vec<Finding>) {
    if !settings.rate_limits.enabled {
        findings.push(Finding::new(
            Severity::High,
            "rate-limits-off",
            "RATE_LIMITS",
            "every rate limit is off: passwords, client secrets and codes can be guessed as \
             fast as the server answers",
            "remove RATE_LIMITS=off (raise single limits such as RATE_LIMIT_PER_IP instead)",
        ));
    }
}

fn check_origins(settings: &Settings, findings: &mut Vec<Finding>) {
    for origin in &settings.http.cors_allowed_origins {
        let Ok(url) = Url::parse(origin) else {
            continue;
        };
        if url.scheme() == "http" && !is_loopback(&url) {
            findings.push(Finding::new(
                Severity::Medium,
                "cors-origin-http",
                origin.clone(),
                "a browser origin over plain http may read tokens and tasks: anyone on the \
                 network path can inject script into it",
                "list its https origin in CORS_ALLOWED_ORIGINS instead",
            ));
        }
    }
}

/// Spans carry paths, client addresses and user agents: over plain http to another host,
/// anyone on the way reads them.
fn check_trace_endpoint(settings: &Settings, findings: &mut Vec<Finding>) {
    let Some(endpoint) = &settings.otlp_endpoint else {
        return;
    };
    if let Ok(url) = Url::parse(endpoint)
        && url.scheme() == "http"
        && !is_loopback(&url)
    {
        findings.push(Finding::new(
            Severity::Medium,
            "traces-over-http",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "traces go to another host over plain http: paths, client addresses and user \
             agents cross the network in the clear",
            "send them to a collector on loopback, or to its https endpoint",
        ));
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name == "localhost",
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A duration setting longer (or, for `shorter_is_looser`, shorter) than its default.
struct Lifetime {
    name: &'static str,
    value: Duration,
    default: Duration,
    shorter_is_looser: bool,
    severity: Severity,
    why: &'static str,
}

fn check_lifetimes(settings: &Settings, defaults: &Settings, findings: &mut Vec<Finding>) {
    let lifetimes = [
        Lifetime {
            name: "SESSION_IDLE_TIMEOUT",
            value: settings.sessions.idle_timeout,
            default: defaults.sessions.idle_timeout,
            shorter_is_looser: false,
            severity: Severity::Low,
            why: "an unattended browser stays signed in longer",
        },
        Lifetime {
            name: "SESSION_ABSOLUTE_LIFETIME",
            value: settings.sessions.absolute_lifetime,
            default: defaults.sessions.absolute_lifetime,
            shorter_is_looser: false,
            severity: Severity::Low,
            why: "a stolen session cookie works longer",
        },
        Lifetime {
            name: "LOGIN_LOCKOUT",
            value: settings.login.lockout,
            default: defaults.login.lockout,
            shorter_is_looser: true,
            severity: Severity::Medium,
            why: "password guessing resumes sooner after a lockout",
        },
        Lifetime {
            name: "ACCESS_TOKEN_TTL",
            value: settings.tokens.access_token_ttl,
            default: defaults.tokens.access_token_ttl,
            shorter_is_looser: false,
            severity: Severity::Low,
            why: "a leaked access token works longer (the task API checks revocation, other \
                  resource servers may not)",
        },
        Lifetime {
            name: "AUTHORIZATION_CODE_TTL",
            value: settings.tokens.authorization_code_ttl,
            default: defaults.tokens.authorization_code_ttl,
            shorter_is_looser: false,
            severity: Severity::Low,
            why: "an intercepted code can be redeemed for longer",
        },
        Lifetime {
            name: "REFRESH_TOKEN_TTL",
            value: settings.tokens.refresh_token_ttl,
            default: defaults.tokens.refresh_token_ttl,
            shorter_is_looser: false,
            severity: Severity::Low,
            why: "an app keeps access longer without the person signing in again",
        },
    ];
    for lifetime in lifetimes {
        let looser = if lifetime.shorter_is_looser {
            lifetime.value < lifetime.default
        } else {
            lifetime.value > lifetime.default
        };
        if looser {
            findings.push(Finding::new(
                lifetime.severity,
                "looser-than-default",
                lifetime.name,
                format!(
                    "{} is {}, the default is {}: {}",
                    lifetime.name,
                    humantime(lifetime.value),
                    humantime(lifetime.default),
                    lifetime.why
                ),
                format!(
                    "unset {} or bring it back towards the default",
                    lifetime.name
                ),
            ));
        }
    }
    if settings.login.max_failures > defaults.login.max_failures {
        findings.push(Finding::new(
            Severity::Medium,
            "looser-than-default",
            "LOGIN_MAX_FAILURES",
            format!(
                "{} failed sign-ins lock a username, the default is {}: more guesses per \
                 lockout",
                settings.login.max_failures, defaults.login.max_failures
            ),
            "unset LOGIN_MAX_FAILURES or lower it",
        ));
    }
    if settings.sessions.max_per_user > defaults.sessions.max_per_user {
        findings.push(Finding::new(
            Severity::Low,
            "looser-than-default",
            "SESSION_MAX_PER_USER",
            format!(
                "a person may keep {} sessions, the default is {}",
                settings.sessions.max_per_user, defaults.sessions.max_per_user
            ),
            "unset SESSION_MAX_PER_USER or lower it",
        ));
    }
}

/// `90s`, `30m`, `24h`, `7d`: the largest whole unit, as the settings are written.
fn humantime(duration: Duration) -> String {
    let seconds = duration.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if seconds >= size && seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_values(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
        .unwrap()
    }

    fn checks(findings: &[Finding]) -> Vec<(&'static str, &str)> {
        findings
            .iter()
            .map(|f| (f.check, f.subject.as_str()))
            .collect()
    }

    #[test]
    fn random_keys_are_strong_and_patterns_are_weak() {
        assert!(estimated_bits("q8Zk3vT9xLm2Wc7Rb4Ny6Hs1Jd5Gf0Ae+/Pu") >= KEK_MIN_BITS);
        assert!(estimated_bits(&"0123456789abcdef".repeat(4)) < KEK_MIN_BITS);
        assert!(
            estimated_bits("3f9a0c47d1e2b8a65c0f7e19d4b3a2c81e0f9d7c6b5a4e3d2c1b0a9f8e7d6c5b")
                >= KEK_MIN_BITS
        );
        assert!(estimated_bits(&"password".repeat(4)) < KEK_MIN_BITS);
        assert!(estimated_bits(&"a".repeat(40)) < KEK_MIN_BITS);
    }

    #[test]
    fn the_development_defaults_have_their_findings() {
        let found = check(&settings(&[]), &defaults().unwrap());
        let found = checks(&found);
        assert!(found.contains(&("issuer-not-https", "ISSUER")));
        assert!(found.contains(&("key-encryption-key-missing", "KEY_ENCRYPTION_KEY")));
        assert!(found.contains(&("development-mode", "APP_ENV")));
        assert!(
            !found
                .iter()
                .any(|(check, _)| *check == "looser-than-default")
        );
        assert!(!found.iter().any(|(check, _)| *check == "rate-limits-off"));
    }

    #[test]
    fn looser_settings_are_named_with_both_values() {
        let found = check(
            &settings(&[
                ("RATE_LIMITS", "off"),
                ("LOGIN_LOCKOUT", "1m"),
                ("LOGIN_MAX_FAILURES", "50"),
                ("SESSION_IDLE_TIMEOUT", "8h"),
                ("KEY_ENCRYPTION_KEY", &"password".repeat(4)),
                (
                    "CORS_ALLOWED_ORIGINS",
                    "https://app.example.com http://app.example.com http://localhost:3000",
                ),
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    "http://collector.internal:4318",
                ),
            ]),
            &defaults().unwrap(),
        );
        let subjects = checks(&found);
        assert!(subjects.contains(&("rate-limits-off", "RATE_LIMITS")));
        assert!(subjects.contains(&("looser-than-default", "LOGIN_LOCKOUT")));
        assert!(subjects.contains(&("looser-than-default", "LOGIN_MAX_FAILURES")));
        assert!(subjects.contains(&("key-encryption-key-weak", "KEY_ENCRYPTION_KEY")));
        assert!(subjects.contains(&("cors-origin-http", "http://app.example.com")));
        assert!(subjects.contains(&("traces-over-http", "OTEL_EXPORTER_OTLP_ENDPOINT")));
        assert!(!subjects.iter().any(|(_, s)| s.contains("localhost")));
        let idle = found
            .iter()
            .find(|f| f.subject == "SESSION_IDLE_TIMEOUT")
            .unwrap();
        assert!(
            idle.finding.contains("8h") && idle.finding.contains("30m"),
            "{idle:?}"
        );
        // The report names the setting, never the secret's value.
        let secret = "password".repeat(4);
        assert!(
            !found
                .iter()
                .any(|f| f.finding.contains(&secret) || f.remedy.contains(&secret))
        );
    }
}
