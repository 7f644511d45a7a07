//! Remembers when each client last authenticated (`client_usage`), so an operator can
//! find confidential clients nobody uses (`auth-server doctor`). Each instance writes at
//! most once per [`RECORD_EVERY`] per client, in the background: a token request never
//! waits for it, and a failed write is only logged (the next hour writes again).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use shared::db::{Db, DbError};
use shared::models::client_usage::ClientUsage;

/// How stale a client's recorded last use may be.
pub const RECORD_EVERY: Duration = Duration::from_secs(3600);

/// Beyond this many clients the memory of what was written starts over (a few more writes,
/// never unbounded memory).
const MAX_REMEMBERED: usize = 10_000;

#[derive(Debug, Default)]
pub struct UsageRecorder {
    written_at: RwLock<HashMap<String, Instant>>,
}

impl UsageRecorder {
    /// Notes that `client_id` just authenticated; writes it when this instance has not in
    /// the last hour.
    pub fn note(&self, db: &Db, client_id: &str) {
        if !self.is_due(client_id, Instant::now()) {
            return;
        }
        let db = db.clone();
        let client_id = client_id.to_owned();
        tokio::spawn(async move {
            let at = shared::models::now();
            let recorded = db
                .write(move |conn| ClientUsage::record(conn, &client_id, at))
                .await;
            if let Err(error) = recorded {
                let error: DbError = error;
                tracing::warn!(%error, "could not record a client's last use");
            }
        });
    }

    /// Whether a write is due for `client_id` at `now`; if so, counts it as written. The
    /// common answer (written within the hour) takes only the shared lock.
    fn is_due(&self, client_id: &str, now: Instant) -> bool {
        let recent = |written_at: &HashMap<String, Instant>| {
            written_at
                .get(client_id)
                .is_some_and(|at| now.duration_since(*at) < RECORD_EVERY)
        };
        if self.written_at.read().map_or(true, |w| recent(&w)) {
            return false;
        }
        let Ok(mut written_at) = self.written_at.write() else {
            return false;
        };
        // Another request may have taken the write between the two locks.
        if recent(&written_at) {
            return false;
        }
        if written_at.len() >= MAX_REMEMBERED {
            written_at.clear();
        }
        written_at.insert(client_id.to_owned(), now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_once_an_hour_per_client() {
        let recorder = UsageRecorder::default();
        let start = Instant::now();
        assert!(recorder.is_due("a", start));
        assert!(!recorder.is_due("a", start + Duration::from_secs(60)));
        assert!(recorder.is_due("b", start + Duration::from_secs(60)));
        assert!(recorder.is_due("a", start + RECORD_EVERY));
    }
}
