//! Tokens already verified, so a client that sends the same access token many times (as
//! clients do, for its whole lifetime) pays for the signature check once. Keyed by the
//! exact token string, so nothing can be forged into a hit; an entry is used only until the
//! token's `exp` (plus the same leeway the full check allows). Revocation is checked on
//! every request all the same, outside this cache.

use std::collections::HashMap;
use std::sync::RwLock;

use super::Authenticated;

/// Beyond this many entries the cache starts over (a flood of distinct tokens costs
/// signature checks, never unbounded memory).
const MAX_ENTRIES: usize = 10_000;
/// The clock skew allowed on `exp`, as in the full check.
const LEEWAY_SECONDS: i64 = 60;

#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: RwLock<HashMap<String, Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    caller: Authenticated,
    jti: String,
    exp: i64,
}

impl VerifiedTokens {
    /// The caller and `jti` of a token verified before and not expired since.
    pub fn get(&self, token: &str) -> Option<(Authenticated, String)> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(token)?;
        (chrono::Utc::now().timestamp() <= entry.exp + LEEWAY_SECONDS)
            .then(|| (entry.caller.clone(), entry.jti.clone()))
    }

    pub fn insert(&self, token: &str, caller: &Authenticated, jti: &str, exp: i64) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            let now = chrono::Utc::now().timestamp();
            entries.retain(|_, entry| now <= entry.exp + LEEWAY_SECONDS);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            token.to_owned(),
            Entry {
                caller: caller.clone(),
                jti: jti.to_owned(),
                exp,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Via;

    fn caller() -> Authenticated {
        Authenticated {
            subject: "u".into(),
            client_id: "c".into(),
            scopes: vec!["tasks:read".into()],
            via: Via::AccessToken,
        }
    }

    #[test]
    fn hits_only_the_same_token_and_only_until_it_expires() {
        let cache = VerifiedTokens::default();
        let now = chrono::Utc::now().timestamp();
        cache.insert("token-a", &caller(), "jti-a", now + 600);
        cache.insert("token-b", &caller(), "jti-b", now - LEEWAY_SECONDS - 1);
        assert_eq!(
            cache.get("token-a").map(|(_, jti)| jti).as_deref(),
            Some("jti-a")
        );
        assert!(cache.get("token-a ").is_none());
        assert!(cache.get("token-b").is_none(), "expired beyond the leeway");
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = VerifiedTokens::default();
        let exp = chrono::Utc::now().timestamp() + 600;
        for i in 0..=MAX_ENTRIES {
            cache.insert(&format!("t{i}"), &caller(), "j", exp);
        }
        assert!(cache.entries.read().unwrap().len() <= MAX_ENTRIES);
    }
}
