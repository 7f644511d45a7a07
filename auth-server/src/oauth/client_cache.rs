//! Registered clients kept in memory, so authenticating a client at the token endpoint
//! reads no row. A cached client is never trusted on its own: whatever the request goes on
//! to write or reveal, it first confirms in the same database work (the same statement for
//! `client_credentials`, the same transaction for the other grants, the same round of
//! reads for introspection) that the client's row is still the one cached — same
//! `updated_at`, still enabled ([`Client::is_unchanged`]). Every change to a client sets
//! `updated_at` (disable, enable, a new secret), from whichever process or instance made
//! it, so a change takes effect on the very next request: the stale entry is dropped and
//! the client authenticates again from the database.

use std::collections::HashMap;
use std::sync::RwLock;

use shared::models::client::Client;

/// Beyond this many clients the cache starts over (memory stays bounded whatever the
/// registry's size; only clients that authenticated are ever cached).
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default)]
pub struct ClientCache {
    entries: RwLock<HashMap<String, Client>>,
}

impl ClientCache {
    pub fn get(&self, client_id: &str) -> Option<Client> {
        self.entries.read().ok()?.get(client_id).cloned()
    }

    /// Keeps a client as just read from the database.
    pub fn insert(&self, client: &Client) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(client.client_id.clone(), client.clone());
    }

    /// Drops a client whose row changed since it was cached.
    pub fn evict(&self, client_id: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(client_id);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A confidential client_credentials client made now (other tests start from it).
    pub(crate) fn client(id: &str) -> Client {
        let at = shared::models::now();
        Client {
            client_id: id.to_owned(),
            secret_hash: None,
            name: "App".into(),
            redirect_uris: String::new(),
            scopes: String::new(),
            grant_types: "client_credentials".into(),
            is_public: false,
            is_first_party: false,
            require_pkce: true,
            created_at: at,
            updated_at: at,
            disabled_at: None,
            is_resource_server: false,
            id_token_signed_response_alg: "RS256".into(),
            post_logout_redirect_uris: String::new(),
            backchannel_logout_uri: None,
            require_mfa: false,
        }
    }

    #[test]
    fn keeps_evicts_and_stays_bounded() {
        let cache = ClientCache::default();
        assert!(cache.get("a").is_none());
        cache.insert(&client("a"));
        assert_eq!(cache.get("a").map(|c| c.client_id), Some("a".to_owned()));
        cache.evict("a");
        assert!(cache.get("a").is_none());
        for i in 0..MAX_ENTRIES + 1 {
            cache.insert(&client(&format!("c{i}")));
        }
        assert!(cache.entries.read().unwrap().len() <= MAX_ENTRIES);
        assert!(cache.get(&format!("c{MAX_ENTRIES}")).is_some());
    }
}
