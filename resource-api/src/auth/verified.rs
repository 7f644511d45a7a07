//! Tokens already verified, so a client that sends the same access token many times (as
//! clients do, for its whole lifetime) pays for the signature check once. Keyed by the
//! exact token string, so nothing can be forged into a hit; an entry is used only until the
//! token's `exp` (plus the same leeway the full check allows), and only while the key that
//! signed it is still published. Revocation is checked on every request all the same,
//! outside this cache.

use std::collections::HashMap;
use std::sync::RwLock;

use super::Authenticated;

/// Beyond this many entries the cache starts over (a flood of distinct tokens costs
/// signature checks, never unbounded memory).
const MAX_ENTRIES: usize = 10_000;
/// The clock skew allowed on `exp`, as in the full check.
const LEEWAY_SECONDS: i64 = super::LEEWAY_SECONDS as i64;

#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: RwLock<HashMap<String, Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    caller: Authenticated,
    jti: String,
    /// The signing key's id: once the issuer stops publishing it, the entry is void.
    kid: String,
    exp: i64,
}

impl VerifiedTokens {
    /// The caller and `jti` of a token verified before, not expired since, and signed by a
    /// key that `still_published` says the issuer still publishes.
    pub fn get(
        &self,
        token: &str,
        still_published: impl Fn(&str) -> bool,
    ) -> Option<(Authenticated, String)> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(token)?;
        (chrono::Utc::now().timestamp() <= entry.exp + LEEWAY_SECONDS
            && still_published(&entry.kid))
        .then(|| (entry.caller.clone(), entry.jti.clone()))
    }

    pub fn insert(&self, token: &str, caller: &Authenticated, jti: &str, kid: &str, exp: i64) {
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
                kid: kid.to_owned(),
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
        let published = |_: &str| true;
        cache.insert("token-a", &caller(), "jti-a", "kid", now + 600);
        cache.insert(
            "token-b",
            &caller(),
            "jti-b",
            "kid",
            now - LEEWAY_SECONDS - 1,
        );
        assert_eq!(
            cache
                .get("token-a", published)
                .map(|(_, jti)| jti)
                .as_deref(),
            Some("jti-a")
        );
        assert!(cache.get("token-a ", published).is_none());
        assert!(
            cache.get("token-b", published).is_none(),
            "expired beyond the leeway"
        );
    }

    #[test]
    fn an_entry_is_void_once_its_key_is_no_longer_published() {
        let cache = VerifiedTokens::default();
        let exp = chrono::Utc::now().timestamp() + 600;
        cache.insert("token", &caller(), "jti", "old-kid", exp);
        assert!(cache.get("token", |kid| kid == "old-kid").is_some());
        assert!(cache.get("token", |kid| kid == "new-kid").is_none());
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = VerifiedTokens::default();
        let exp = chrono::Utc::now().timestamp() + 600;
        for i in 0..=MAX_ENTRIES {
            cache.insert(&format!("t{i}"), &caller(), "j", "k", exp);
        }
        assert!(cache.entries.read().unwrap().len() <= MAX_ENTRIES);
    }
}
