//! The revocation list in memory (SECURITY.md 19): every revoked, unexpired access token's
//! `jti`, refreshed from the database every `POLL_INTERVAL`, so a revoked token is refused
//! within a second without a database round trip per request. Until the first load has
//! succeeded the list knows nothing, and says so: a token is then neither accepted nor
//! refused as revoked, but answered 503 (one revoked before this process started must not
//! slip through).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::NaiveDateTime;
use shared::db::Db;
use shared::models::access_token::AccessTokenRecord;
use shared::models::now;

pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Re-read revocations this far back, so one committed late (clock skew between
/// instances, a long transaction) is not missed.
const OVERLAP: chrono::Duration = chrono::Duration::seconds(5);

#[derive(Debug, Clone, Default)]
pub struct RevocationList {
    revoked: Arc<RwLock<HashMap<String, NaiveDateTime>>>,
    /// Whether the whole list has been loaded once.
    loaded: Arc<AtomicBool>,
}

impl RevocationList {
    /// Whether `jti` is revoked; `None` until the list has been loaded once.
    pub fn is_revoked(&self, jti: &str) -> Option<bool> {
        if !self.loaded.load(Ordering::Acquire) {
            return None;
        }
        Some(match self.revoked.read() {
            Ok(set) => set.contains_key(jti),
            Err(poisoned) => poisoned.into_inner().contains_key(jti),
        })
    }

    /// Loads revocations since `since`, drops expired entries; returns the new cursor.
    pub async fn sync(
        &self,
        db: &Db,
        since: NaiveDateTime,
    ) -> Result<NaiveDateTime, shared::db::DbError> {
        let at = now();
        let rows = db
            .run(move |conn| AccessTokenRecord::revoked_since(conn, since, at))
            .await?;
        let cursor = at - OVERLAP;
        let mut set = match self.revoked.write() {
            Ok(set) => set,
            Err(poisoned) => poisoned.into_inner(),
        };
        set.retain(|_, expires_at| *expires_at > at);
        for row in rows {
            set.insert(row.jti, row.expires_at);
        }
        self.loaded.store(true, Ordering::Release);
        Ok(cursor)
    }

    /// Loads the list — first, when the database answered at startup, so the server opens
    /// with it — and keeps it in sync until the server stops.
    pub async fn start(&self, db: Db, database_reachable: bool) {
        // Start from the beginning: every revoked, unexpired token.
        let mut cursor = chrono::DateTime::UNIX_EPOCH.naive_utc();
        if database_reachable {
            match self.sync(&db, cursor).await {
                Ok(next) => cursor = next,
                Err(error) => {
                    tracing::warn!(error = %error, "could not load the revocation list")
                }
            }
        }
        let list = self.clone();
        actix_web::rt::spawn(async move {
            loop {
                match list.sync(&db, cursor).await {
                    Ok(next) => cursor = next,
                    Err(error) => {
                        tracing::warn!(error = %error, "could not refresh the revocation list")
                    }
                }
                actix_web::rt::time::sleep(POLL_INTERVAL).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unloaded_list_does_not_claim_a_token_is_unrevoked() {
        assert_eq!(RevocationList::default().is_revoked("any-jti"), None);
    }
}
