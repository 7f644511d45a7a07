//! SQLite checkpoints off the request path. In WAL mode every commit appends to the log;
//! a checkpoint copies the log back into the database file and syncs both to disk. By
//! default the commit that grows the log past 1000 pages does it, holding the writer lock
//! through two `fsync`s while every other writer waits. A server's connections turn that
//! off (`wal_autocheckpoint = 0`) and this thread checkpoints every [`INTERVAL`] on a
//! connection of its own, in two passes:
//!
//! 1. a `PASSIVE` checkpoint, which takes no writer lock: writers go on appending while
//!    it copies the log and waits for the disk — the long part;
//! 2. a second one while holding this process's writer turn (see `write_transaction`),
//!    which copies only what was appended during the first: then the whole log is in
//!    the database file, and the next writer starts the log over from its beginning.
//!    Without it, under a steady load a checkpoint would never catch up and the log
//!    would grow without end.
//!
//! `journal_size_limit` trims the log file when it starts over after a burst.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::connection::SimpleConnection as _;

/// How often the log is copied back. Short enough that the log stays small under a
/// sustained load of writes (a few MiB), long enough to cost nothing when idle.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// The log file is cut back to this size when it restarts.
const JOURNAL_SIZE_LIMIT: u64 = 16 * 1024 * 1024;

/// The checkpoint thread of one database; it stops when this is dropped.
#[derive(Debug)]
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
}

impl Checkpointer {
    pub fn start(path: PathBuf) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let spawned = std::thread::Builder::new()
            .name("db-checkpoint".into())
            .spawn(move || run(&path, &stopped));
        if let Err(error) = spawned {
            tracing::error!(error = %error, "could not start the SQLite checkpoint thread");
        }
        Self { stop }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn run(path: &std::path::Path, stop: &AtomicBool) {
    let mut conn = None;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(INTERVAL);
        if conn.is_none() {
            conn = super::open_sqlite(path).ok().and_then(|mut conn| {
                conn.batch_execute(&format!(
                    "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT};"
                ))
                .ok()
                .map(|()| conn)
            });
        }
        let Some(connection) = conn.as_mut() else {
            continue;
        };
        let caught_up = checkpoint(connection).and_then(|()| {
            let _turn = super::SqliteWriters::wait_turn();
            checkpoint(connection)
        });
        // Busy (another process checkpoints) is fine; anything else: reopen next time.
        if let Err(error) = caught_up {
            tracing::debug!(error = %error, "SQLite checkpoint failed");
            if !error.to_string().contains("locked") {
                conn = None;
            }
        }
    }
}

fn checkpoint(conn: &mut diesel::SqliteConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use diesel::RunQueryDsl as _;

    use crate::config::{DatabaseSettings, DatabaseUrl};
    use crate::db::{Db, write_transaction};

    /// Without the pass that holds the writer turn, a steady stream of commits keeps every
    /// checkpoint one step behind and the log never starts over: it grows by all that is
    /// written.
    #[actix_web::test]
    async fn under_steady_writes_the_log_keeps_starting_over() {
        let dir = std::env::temp_dir().join(format!(
            "checkpoint-test-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.sqlite3");
        let db = Db::connect_server(&DatabaseSettings {
            url: DatabaseUrl::Sqlite(path.clone()),
            url_given: true,
            pool_size: 4,
            timeout: Duration::from_secs(5),
        });
        db.migrate().unwrap();
        db.run(|conn| {
            diesel::sql_query("CREATE TABLE filler (data BLOB NOT NULL)")
                .execute(conn)
                .map_err(crate::db::DbError::from)
        })
        .await
        .unwrap();
        // At least 80 MiB of commits over at least a second and a half (fifteen checkpoint
        // intervals), however fast this machine writes.
        let wal = dir.join("db.sqlite3-wal");
        let started = Instant::now();
        let mut largest = 0;
        let mut commits: u64 = 0;
        while (started.elapsed() < Duration::from_millis(1500)
            || commits * 16384 < 5 * JOURNAL_SIZE_LIMIT)
            && started.elapsed() < Duration::from_secs(60)
        {
            commits += 1;
            db.run(|conn| {
                write_transaction(conn, |conn| {
                    diesel::sql_query("INSERT INTO filler (data) VALUES (zeroblob(16384))")
                        .execute(conn)
                })
                .map_err(crate::db::DbError::from)
            })
            .await
            .unwrap();
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        let written: i64 = db
            .run(|conn| {
                diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "(SELECT count(*) FROM filler)",
                ))
                .get_result(conn)
                .map_err(crate::db::DbError::from)
            })
            .await
            .unwrap();
        drop(db);
        let _removed = std::fs::remove_dir_all(&dir);
        let written_bytes = u64::try_from(written).unwrap() * 16384;
        assert!(
            written_bytes > 4 * JOURNAL_SIZE_LIMIT,
            "too few writes to tell: {written}"
        );
        // Starting over, the log stays a fraction of what went through it.
        assert!(
            largest * 3 < written_bytes,
            "the log grew to {largest} bytes for {written_bytes} written"
        );
    }

    use super::JOURNAL_SIZE_LIMIT;
}
