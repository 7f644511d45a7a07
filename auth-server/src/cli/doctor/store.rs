//! The checks on what the database holds: the signing keys' age and sealing, every
//! enabled client's PKCE, redirect URIs and use, and the pool sizes against the
//! PostgreSQL server's connection limit.

use std::collections::HashMap;

use chrono::{NaiveDateTime, TimeDelta};
use shared::models::client::Client;

use super::report::{Finding, Severity};
use crate::oauth::keys::{KeyInfo, KeyStatus};
use crate::oauth::redirect_uri::RedirectUri;

/// A key that has signed for longer than this should be replaced (`keys rotate`).
pub const ROTATION_PERIOD: TimeDelta = TimeDelta::days(90);
/// A confidential client that has not authenticated for this long is probably forgotten.
pub const UNUSED_AFTER: TimeDelta = TimeDelta::days(90);

pub fn check_keys(keys: &[KeyInfo], kek_set: bool, now: NaiveDateTime) -> Vec<Finding> {
    let mut findings = Vec::new();
    for key in keys.iter().filter(|k| k.status != KeyStatus::Retired) {
        if key.status == KeyStatus::Signing && now - key.created_at > ROTATION_PERIOD {
            findings.push(Finding::new(
                Severity::Medium,
                "signing-key-old",
                key.kid.clone(),
                format!(
                    "the {} key {} has signed since {} ({} days, over {})",
                    key.alg,
                    key.kid,
                    key.created_at.format("%Y-%m-%d"),
                    (now - key.created_at).num_days(),
                    ROTATION_PERIOD.num_days(),
                ),
                "run `auth-server keys rotate` (tokens it signed keep verifying until they \
                 expire); rotate on a schedule",
            ));
        }
        if kek_set && !key.encrypted {
            findings.push(Finding::new(
                Severity::High,
                "signing-key-unencrypted",
                key.kid.clone(),
                format!(
                    "the {} key {} was stored before KEY_ENCRYPTION_KEY was set: its private \
                     half is in the database in the clear",
                    key.alg, key.kid
                ),
                "run `auth-server keys rotate --retire-previous-now` (new keys are sealed)",
            ));
        }
    }
    findings
}

pub fn check_clients(
    clients: &[Client],
    last_used: &HashMap<String, NaiveDateTime>,
    now: NaiveDateTime,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for client in clients.iter().filter(|c| c.is_enabled()) {
        let id = &client.client_id;
        if !client.require_pkce && client.allows_grant_type("authorization_code") {
            findings.push(Finding::new(
                if client.is_public {
                    Severity::High
                } else {
                    Severity::Medium
                },
                "client-pkce-relaxed",
                id.clone(),
                format!(
                    "`{}` may exchange codes without PKCE: a stolen or injected code is \
                     redeemable (RFC 9700 §2.1.1)",
                    client.name
                ),
                "register it again without --no-pkce (PKCE works with every OAuth library)",
            ));
        }
        for uri in client.redirect_uri_list() {
            check_redirect_uri(client, uri, &mut findings);
        }
        if !client.is_public {
            let since = last_used
                .get(id)
                .copied()
                .unwrap_or(client.created_at)
                .max(client.updated_at);
            if now - since > UNUSED_AFTER {
                findings.push(Finding::new(
                    Severity::Medium,
                    "client-unused",
                    id.clone(),
                    format!(
                        "the confidential client `{}` has not authenticated since {}: its \
                         secret is a standing credential nobody watches",
                        client.name,
                        since.format("%Y-%m-%d"),
                    ),
                    format!("if it is gone, `auth-server clients disable {id}`"),
                ));
            }
        }
    }
    findings
}

/// A stored redirect URI, read with today's registration rules: one registered before a
/// rule existed, plain http, or one that looks like a pattern.
fn check_redirect_uri(client: &Client, uri: &str, findings: &mut Vec<Finding>) {
    let id = &client.client_id;
    let parsed = match RedirectUri::parse_registered(uri) {
        Ok(parsed) => parsed,
        Err(error) => {
            findings.push(Finding::new(
                Severity::High,
                "redirect-uri-invalid",
                id.clone(),
                format!("`{}` has the redirect URI `{uri}`, which registration now refuses: {error}", client.name),
                format!(
                    "register the app again with a valid URI, then `auth-server clients disable {id}`"
                ),
            ));
            return;
        }
    };
    let url = parsed.url();
    if url.scheme() == "http" {
        findings.push(Finding::new(
            Severity::Low,
            "redirect-uri-http",
            id.clone(),
            format!(
                "`{}` receives codes over plain http at `{uri}` (loopback: fine for a native \
                 app, RFC 8252 §7.3, not for a web app)",
                client.name
            ),
            "use https unless this is a native app's loopback redirect",
        ));
    }
    if url.path().contains('*') || url.query().is_some_and(|q| q.contains('*')) {
        findings.push(Finding::new(
            Severity::Medium,
            "redirect-uri-wildcard",
            id.clone(),
            format!(
                "`{}` registered `{uri}`: redirect URIs are compared exactly, so `*` matches \
                 only itself; whoever registered it may expect a pattern",
                client.name
            ),
            "register each exact redirect URI the app uses",
        ));
    }
}

/// Each instance of each server opens up to `pool_size` connections; two servers per
/// deployment.
pub fn check_pool(pool_size: u32, available: Option<i32>) -> Vec<Finding> {
    let Some(available) = available else {
        return Vec::new();
    };
    let per_pair = i64::from(pool_size) * 2;
    let pairs = i64::from(available) / per_pair.max(1);
    let (severity, what) = match pairs {
        0 => (
            Severity::High,
            "not even one auth-server and one task API fit: requests will wait and fail with 503",
        ),
        1 => (
            Severity::Medium,
            "only one instance of each server fits: a second one, or a rolling deploy, runs out",
        ),
        _ => return Vec::new(),
    };
    vec![Finding::new(
        severity,
        "pool-exceeds-max-connections",
        "DATABASE_POOL_SIZE",
        format!(
            "DATABASE_POOL_SIZE={pool_size} per server, and PostgreSQL accepts {available} \
             connections: {what}"
        ),
        "lower DATABASE_POOL_SIZE, raise max_connections, or put PgBouncer in front",
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str, at: NaiveDateTime) -> Client {
        Client {
            secret_hash: Some("hash".into()),
            redirect_uris: "https://app.example.com/callback".into(),
            scopes: "tasks:read".into(),
            grant_types: "authorization_code refresh_token".into(),
            created_at: at,
            updated_at: at,
            ..crate::oauth::client_cache::tests::client(id)
        }
    }

    fn checks(findings: &[Finding]) -> Vec<(&'static str, Severity)> {
        findings.iter().map(|f| (f.check, f.severity)).collect()
    }

    #[test]
    fn a_sound_client_has_no_finding() {
        let now = shared::models::now();
        assert!(check_clients(&[client("a", now)], &HashMap::new(), now).is_empty());
    }

    #[test]
    fn relaxed_pkce_bad_uris_and_disuse_are_found() {
        let now = shared::models::now();
        let long_ago = now - TimeDelta::days(200);
        let mut public = client("public", now);
        public.is_public = true;
        public.require_pkce = false;
        public.redirect_uris = "http://127.0.0.1/cb https://app.example.com/*".into();
        let mut old = client("old", long_ago);
        old.redirect_uris = "http://app.example.com/cb".into();
        let mut used = client("used", long_ago);
        used.require_pkce = false;
        let last_used = HashMap::from([("used".to_owned(), now - TimeDelta::days(3))]);
        let mut disabled = client("disabled", long_ago);
        disabled.disabled_at = Some(long_ago);
        let found = check_clients(&[public, old, used, disabled], &last_used, now);
        let by_client = |id: &str| {
            checks(
                &found
                    .iter()
                    .filter(|f| f.subject == id)
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            by_client("public"),
            vec![
                ("client-pkce-relaxed", Severity::High),
                ("redirect-uri-http", Severity::Low),
                ("redirect-uri-wildcard", Severity::Medium),
            ]
        );
        assert_eq!(
            by_client("old"),
            vec![
                ("redirect-uri-invalid", Severity::High),
                ("client-unused", Severity::Medium),
            ]
        );
        assert_eq!(
            by_client("used"),
            vec![("client-pkce-relaxed", Severity::Medium)]
        );
        assert!(by_client("disabled").is_empty());
    }

    #[test]
    fn pools_are_held_to_the_connection_limit() {
        assert!(check_pool(10, None).is_empty());
        assert!(check_pool(10, Some(97)).is_empty());
        assert_eq!(checks(&check_pool(30, Some(97)))[0].1, Severity::Medium);
        assert_eq!(checks(&check_pool(60, Some(97)))[0].1, Severity::High);
    }

    #[test]
    fn old_and_unsealed_signing_keys_are_found() {
        let now = shared::models::now();
        let key = |kid: &str, status, age: i64, encrypted| KeyInfo {
            kid: kid.to_owned(),
            alg: "EdDSA".into(),
            status,
            encrypted,
            created_at: now - TimeDelta::days(age),
            retire_after: None,
        };
        let keys = [
            key("old", KeyStatus::Signing, 120, true),
            key("published", KeyStatus::Published, 400, false),
            key("retired", KeyStatus::Retired, 800, false),
        ];
        let found = check_keys(&keys, true, now);
        let subjects: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.check, f.subject.as_str()))
            .collect();
        assert_eq!(
            subjects,
            vec![
                ("signing-key-old", "old"),
                ("signing-key-unencrypted", "published")
            ]
        );
        assert!(check_keys(&keys, false, now).len() == 1);
    }
}
