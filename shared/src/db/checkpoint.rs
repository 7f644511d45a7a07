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
