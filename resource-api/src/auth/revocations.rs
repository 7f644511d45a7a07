//! The revocation list in memory (SECURITY.md 19): every revoked access token that a
//! verifier may still accept, by `jti`, so a revoked token is refused within a second
//! without a database round trip per request. Until the first load has succeeded the list
//! knows nothing, and says so: a token is then neither accepted nor refused as revoked, but
//! answered 503 (one revoked before this process started must not slip through).
//!
//! The list follows the `token_revocations` feed by its database-assigned number: every
//! `POLL_INTERVAL` it reads the rows numbered after the last one it has read. No clock is
//! compared with another server's, and the database hands numbers out in commit order
//! (see `shared::models::token_revocation`), so a revocation written with a clock behind
//! ours, or committed late, is still read on the next poll. An entry is kept until its
//! token's `exp` plus the leeway the verifier allows: as long as the token would pass.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::NaiveDateTime;
use shared::claims::accepted_expiry_floor;
use shared::db::Db;
use shared::models::now;
use shared::models::token_revocation::TokenRevocation;

pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Default)]
pub struct RevocationList {
    /// `jti` → the token's expiry.
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

    /// Reads the revocations numbered after `cursor`; returns the new cursor (the last
    /// number read).
    pub async fn sync(&self, db: &Db, cursor: i64) -> Result<i64, shared::db::DbError> {
        let rows = db
            .run(move |conn| TokenRevocation::after(conn, cursor))
            .await?;
        Ok(self.apply(cursor, rows, now()))
    }

    /// Adds `rows` (read after `cursor`), forgets tokens no verifier accepts at `at`
    /// anymore, and returns the new cursor.
    fn apply(&self, cursor: i64, rows: Vec<TokenRevocation>, at: NaiveDateTime) -> i64 {
        let floor = accepted_expiry_floor(at);
        let mut set = match self.revoked.write() {
            Ok(set) => set,
            Err(poisoned) => poisoned.into_inner(),
        };
        set.retain(|_, expires_at| *expires_at >= floor);
        let mut cursor = cursor;
        for row in rows {
            cursor = cursor.max(row.seq);
            if row.expires_at >= floor {
                set.insert(row.jti, row.expires_at);
            }
        }
        self.loaded.store(true, Ordering::Release);
        cursor
    }

    /// Loads the list — first, when the database answered at startup, so the server opens
    /// with it — and keeps it in sync until the server stops.
    pub async fn start(&self, db: Db, database_reachable: bool) {
        // From the beginning of the feed: every revocation not pruned yet.
        let mut cursor = 0;
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
            let mut caught_up_at = std::time::Instant::now();
            loop {
                let started = std::time::Instant::now();
                match list.sync(&db, cursor).await {
                    Ok(next) => {
                        cursor = next;
                        caught_up_at = started;
                    }
                    Err(error) => {
                        tracing::warn!(error = %error, "could not refresh the revocation list")
                    }
                }
                // How old the mirror may be: since the start of its last complete read.
                shared::metrics::metrics()
                    .revocation_lag
                    .set(caught_up_at.elapsed().as_secs_f64());
                actix_web::rt::time::sleep(POLL_INTERVAL).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, jti: &str, expires_at: NaiveDateTime) -> TokenRevocation {
        TokenRevocation {
            seq,
            jti: jti.to_owned(),
            expires_at,
        }
    }

    #[test]
    fn an_unloaded_list_does_not_claim_a_token_is_unrevoked() {
        assert_eq!(RevocationList::default().is_revoked("any-jti"), None);
    }

    #[test]
    fn a_revocation_is_kept_past_exp_for_as_long_as_the_leeway_accepts_the_token() {
        let list = RevocationList::default();
        let at = now();
        let seconds = chrono::Duration::seconds;
        let leeway = seconds(shared::claims::LEEWAY_SECONDS as i64);
        let cursor = list.apply(
            0,
            vec![
                row(3, "live", at + seconds(600)),
                row(4, "in-leeway", at - leeway + seconds(1)),
                row(7, "beyond", at - leeway - seconds(2)),
            ],
            at,
        );
        assert_eq!(cursor, 7);
        assert_eq!(list.is_revoked("live"), Some(true));
        assert_eq!(
            list.is_revoked("in-leeway"),
            Some(true),
            "exp passed, leeway not"
        );
        assert_eq!(list.is_revoked("beyond"), Some(false), "accepted nowhere");

        // Later, with nothing new: the entry goes once the leeway has passed, not at `exp`.
        assert_eq!(list.apply(cursor, Vec::new(), at + seconds(1)), cursor);
        assert_eq!(list.is_revoked("in-leeway"), Some(true));
        list.apply(cursor, Vec::new(), at + seconds(3));
        assert_eq!(list.is_revoked("in-leeway"), Some(false));
        assert_eq!(list.is_revoked("live"), Some(true));
    }
}
