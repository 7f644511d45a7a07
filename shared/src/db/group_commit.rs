//! Group commit for SQLite write transactions ([`crate::db::Db::write`]). SQLite admits
//! one writer at a time, and every commit appends each page it changed to the log: the
//! last leaf of every table and index it inserted into, written again by the next commit
//! and the one after. One thread here runs every queued write transaction of this process
//! inside one SQLite transaction, each in a savepoint of its own, and commits them
//! together: the shared pages go to the log once a group, the locking and the log's
//! bookkeeping happen once a group, and a burst of requests waits for one commit instead
//! of queueing for the lock one by one.
//!
//! What each caller sees is unchanged. Its work runs alone in its savepoint: an error
//! rolls back its own writes and no other's, and the writes before it are visible to it
//! as if they had committed (they are earlier in the one serial order SQLite gives writers
//! anyway). Its result is handed back only after the group has committed, so an answer
//! is never sent for writes that are not in the log; if the commit fails, every member of
//! the group gets the failure and none of their writes are kept.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use diesel::Connection as _;
use diesel::RunQueryDsl as _;
use diesel::connection::SimpleConnection as _;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::executor::Cancelled;
use super::{DbConnection, DbError, DbPool, SqliteWriters, native, prepared};

/// The most write transactions one commit holds. A member's answer waits for the whole
/// group, so this bounds the wait (a few milliseconds of work) as well.
pub const MAX_GROUP: usize = 16;

/// One write transaction waiting for, or in, a group.
trait Member: Send {
    /// Runs the work in a savepoint of the group's transaction, keeping its result.
    fn run(&mut self, conn: &mut DbConnection);
    /// Hands the result over; `failure` is why the group did not commit, if it did not.
    fn finish(self: Box<Self>, failure: Option<&GroupFailure>);
}

/// Why a group's writes were not kept.
#[derive(Debug, Clone)]
enum GroupFailure {
    /// No connection could be had, or the database refused the transaction or its commit.
    Database(String, bool),
    /// A member panicked (a bug): the transaction was rolled back, the connection dropped.
    Panicked,
}

impl GroupFailure {
    fn from_error(error: &DieselError) -> Self {
        let closed = matches!(
            error,
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        );
        Self::Database(error.to_string(), closed)
    }

    /// The failure as each member's caller sees it: a message that `DbError` classifies
    /// as it would the original (a locked or unreachable database answers 503).
    fn to_db_error(&self) -> DbError {
        match self {
            Self::Database(message, closed) => {
                let kind = if *closed {
                    DatabaseErrorKind::ClosedConnection
                } else {
                    DatabaseErrorKind::Unknown
                };
                DbError::Query(DieselError::DatabaseError(kind, Box::new(message.clone())))
            }
            Self::Panicked => DbError::Cancelled,
        }
    }
}

struct Write<T, E, F> {
    work: Option<F>,
    result: Option<Result<T, E>>,
    sender: tokio::sync::oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> Member for Write<T, E, F>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send,
    T: Send,
    E: From<DbError> + From<DieselError> + Send,
{
    fn run(&mut self, conn: &mut DbConnection) {
        if let Some(work) = self.work.take() {
            // A nested `transaction` is a savepoint: an error rolls back this work alone.
            self.result = Some(conn.transaction(work));
        }
    }

    fn finish(self: Box<Self>, failure: Option<&GroupFailure>) {
        let delivered = match (self.result, failure) {
            // Rolled back either way: its own error says more.
            (Some(Err(error)), _) => Err(error),
            (_, Some(GroupFailure::Panicked)) | (None, None) => return, // caller: Cancelled
            (_, Some(failure)) => Err(E::from(failure.to_db_error())),
            (Some(Ok(value)), None) => Ok(value),
        };
        let _caller_gone = self.sender.send(delivered);
    }
}

/// The writer thread of one SQLite database; it stops when this is dropped.
#[derive(Debug)]
pub struct GroupCommit {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Groups committed, and the write transactions in them.
    committed_groups: AtomicU64,
    committed_writes: AtomicU64,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Box<dyn Member>>,
    stopping: bool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// Starts the writer thread, taking its connections from `pool`.
    pub fn start(pool: DbPool) -> Self {
        let shared = Arc::new(Shared::default());
        let thread_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || write_groups(&thread_shared, &pool));
        if let Err(error) = spawned {
            tracing::error!(error = %error, "could not start the database writer thread");
            shared.lock().stopping = true;
        }
        Self { shared }
    }

    /// Runs `work` in a savepoint of the next group and returns its result once the group
    /// has committed.
    pub async fn write<T, E, F>(&self, work: F) -> Result<Result<T, E>, Cancelled>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<DieselError> + Send + 'static,
    {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        {
            let mut state = self.shared.lock();
            if state.stopping {
                return Err(Cancelled);
            }
            state.queue.push_back(Box::new(Write {
                work: Some(work),
                result: None,
                sender,
            }));
            if state.queue.len() == 1 {
                self.shared.wake.notify_one();
            }
        }
        receiver.await.map_err(|_| Cancelled)
    }

    /// How many groups have committed so far, and how many write transactions they held.
    pub fn committed(&self) -> (u64, u64) {
        (
            self.shared.committed_groups.load(Ordering::Relaxed),
            self.shared.committed_writes.load(Ordering::Relaxed),
        )
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Members run outside the lock, so a poisoned lock still guards a consistent queue.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        // Queued writes still run; then the thread ends.
        self.shared.lock().stopping = true;
        self.shared.wake.notify_all();
    }
}

fn write_groups(shared: &Shared, pool: &DbPool) {
    let mut group: Vec<Box<dyn Member>> = Vec::with_capacity(MAX_GROUP);
    loop {
        {
            let mut state = shared.lock();
            while state.queue.is_empty() {
                if state.stopping {
                    return;
                }
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            let taken = state.queue.len().min(MAX_GROUP);
            group.extend(state.queue.drain(..taken));
        }
        let failure = commit_group(pool, &mut group);
        if failure.is_none() {
            shared.committed_groups.fetch_add(1, Ordering::Relaxed);
            shared
                .committed_writes
                .fetch_add(group.len() as u64, Ordering::Relaxed);
        }
        group
            .drain(..)
            .for_each(|member| member.finish(failure.as_ref()));
    }
}

/// Runs the members in one transaction and commits it; `None` when it committed.
fn commit_group(pool: &DbPool, group: &mut [Box<dyn Member>]) -> Option<GroupFailure> {
    let mut pooled = match pool.get() {
        Ok(pooled) => pooled,
        Err(error) => {
            tracing::warn!(error = %error, "no database connection for a group of writes");
            return Some(GroupFailure::Database(
                "database unavailable: no connection".into(),
                true,
            ));
        }
    };
    if let Err(error) = pooled.verify_if_idle() {
        return Some(GroupFailure::Database(error.to_string(), true));
    }
    let _turn = SqliteWriters::wait_turn();
    let mut panicked = false;
    let committed = pooled.transaction::<_, DieselError, _>(|conn| {
        // As in `write_transaction`: the writer lock first (see there).
        native!(conn, |conn| prepared::TakeWriterLock.execute(conn))?;
        for member in group.iter_mut() {
            if std::panic::catch_unwind(AssertUnwindSafe(|| member.run(conn))).is_err() {
                panicked = true;
                return Err(DieselError::RollbackTransaction);
            }
        }
        Ok(())
    });
    if panicked {
        // The panic skipped the savepoint's bookkeeping: undo everything by hand and let
        // the pool replace the connection.
        let _already_rolled_back = pooled.conn.batch_execute("ROLLBACK");
        pooled.broken = true;
        return Some(GroupFailure::Panicked);
    }
    pooled.note_outcome(committed.is_err());
    committed
        .err()
        .map(|error| GroupFailure::from_error(&error))
}

#[cfg(test)]
mod tests;
