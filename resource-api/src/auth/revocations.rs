//! The revocation list in memory (SECURITY.md 19): every revoked, unexpired access token's
//! `jti`, refreshed from the database every `POLL_INTERVAL`, so a revoked token is refused
//! within a second without a database round trip per request.

use std::collections::HashMap;
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
}

impl RevocationList {
    pub fn is_revoked(&self, jti: &str) -> bool {
        match self.revoked.read() {
            Ok(set) => set.contains_key(jti),
            Err(poisoned) => poisoned.into_inner().contains_key(jti),
        }
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
        Ok(cursor)
    }

    /// Keeps the list in sync until the server stops.
    pub fn spawn_poller(&self, db: Db) {
        let list = self.clone();
        actix_web::rt::spawn(async move {
            // Start from the beginning: every revoked, unexpired token.
            let mut cursor = chrono::DateTime::UNIX_EPOCH.naive_utc();
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
