//! Access tokens this ring has verified, so a resource server introspecting the same token
//! many times (as it does, for the token's whole lifetime) pays for the signature check
//! once. Keyed by the exact token string, so nothing can be forged into a hit. The cache
//! lives in the `KeyRing`, which is replaced whole when the keys are reloaded: an entry
//! never outlives the keys that verified it. It holds the claims as verified without the
//! expiry check; whoever reads an entry applies that check as the full verification would.
//! Revocation is never cached: it is read from the database on every request.

use std::collections::HashMap;
use std::sync::RwLock;

use shared::claims::AccessTokenClaims;

/// Beyond this many entries the cache starts over (a flood of distinct tokens costs
/// signature checks, never unbounded memory: about 1 KiB an entry).
const MAX_ENTRIES: usize = 4_096;

#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: RwLock<HashMap<String, AccessTokenClaims>>,
}

impl VerifiedTokens {
    pub fn get(&self, token: &str) -> Option<AccessTokenClaims> {
        self.entries.read().ok()?.get(token).cloned()
    }

    pub fn insert(&self, token: &str, claims: &AccessTokenClaims) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(token.to_owned(), claims.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(jti: &str) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: "i".into(),
            sub: "s".into(),
            aud: "a".into(),
            client_id: "c".into(),
            scope: "tasks:read".into(),
            iat: 0,
            exp: 1,
            jti: jti.into(),
        }
    }

    #[test]
    fn hits_only_the_exact_token_and_stays_bounded() {
        let cache = VerifiedTokens::default();
        cache.insert("token-a", &claims("a"));
        assert_eq!(cache.get("token-a").map(|c| c.jti), Some("a".to_owned()));
        assert!(cache.get("token-a ").is_none());
        assert!(cache.get("token-b").is_none());
        for i in 0..=MAX_ENTRIES {
            cache.insert(&format!("t{i}"), &claims("x"));
        }
        assert!(cache.entries.read().unwrap().len() <= MAX_ENTRIES);
    }
}
