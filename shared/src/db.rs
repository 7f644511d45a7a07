//! The database layer: one connection type over PostgreSQL and SQLite, the r2d2 pool,
//! the embedded migrations, and the error that tells "unavailable" (503) apart from a bug.
//!
//! The backend is chosen from the URL scheme by our own connection manager rather than by
//! the derived `MultiConnection::establish`, which would hide the real connection error
//! ("connection refused") behind a generic one.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::result::{ConnectionError, DatabaseErrorKind};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tracing::Instrument as _;

use crate::config::{DatabaseSettings, DatabaseUrl};

mod checkpoint;
pub mod executor;
pub mod group_commit;
pub mod prepared;

/// A connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

impl std::fmt::Debug for DbConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Postgresql(_) => "DbConnection::Postgresql",
            Self::Sqlite(_) => "DbConnection::Sqlite",
        })
    }
}

/// Runs `$body` with `$native` bound to the backend's own connection (`&mut PgConnection`
/// or `&mut SqliteConnection`); `$body` is compiled once for each backend.
///
/// Why: a statement run through the multi-backend `DbConnection` is wrapped so that its
/// SQL is written out anew for every pass diesel makes over it — the cache lookup, the
/// binds — even when the prepared statement is already cached; the profile of a refresh
/// showed that at 8 % of the request. On the backend's own connection a cached statement
/// costs a hash lookup. Transactions are unaffected: `DbConnection`'s transaction manager
/// is the inner connection's own, so a statement run here is inside the caller's
/// transaction or savepoint as any other.
macro_rules! native {
    ($conn:expr, |$native:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($native) => $body,
            $crate::db::DbConnection::Sqlite($native) => $body,
        }
    };
}
pub(crate) use native;

pub type DbPool = r2d2::Pool<ConnectionManager>;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// Serialises concurrent migration runs of several instances on one PostgreSQL database.
const MIGRATION_LOCK_ID: i64 = 0x6f61_7574_685f_6d69; // "oauth_mi"

/// How long SQLite waits for another writer before giving up with "database is locked".
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Opens connections for r2d2, picking the backend from the URL scheme.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    checkpoints: Checkpoints,
}

/// Who copies SQLite's write-ahead log back into the database file (a checkpoint, which
/// ends in `fsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoints {
    /// SQLite's default: the commit that grows the log past 1000 pages, while it holds the
    /// writer lock (every other writer waits out the `fsync`). For short-lived processes.
    OnCommit,
    /// A thread of the server's own, every [`checkpoint::INTERVAL`]: no request waits for
    /// a checkpoint (see [`checkpoint`]).
    InBackground,
}

/// Why a connection could not be opened or checked.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    Connect(#[from] ConnectionError),
    #[error("{0}")]
    Query(#[from] diesel::result::Error),
    #[error("cannot create the folder for the SQLite file {path}: {source}")]
    CreateFolder {
        path: String,
        source: std::io::Error,
    },
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl, checkpoints: Checkpoints) -> Self {
        Self { url, checkpoints }
    }
}

/// A pooled connection and what the pool knows of its health. Checking every connection
/// on checkout would cost a round trip per query; instead a connection is checked when it
/// has been idle for a while or when work on it failed, and dropped when the check fails.
pub struct PooledDb {
    conn: DbConnection,
    verified_at: Instant,
    broken: bool,
}

impl std::fmt::Debug for PooledDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledDb")
            .field("conn", &self.conn)
            .field("broken", &self.broken)
            .finish()
    }
}

impl std::ops::Deref for PooledDb {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for PooledDb {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// A connection unused for longer than this is checked before use.
const VERIFY_AFTER_IDLE: Duration = Duration::from_secs(2);

impl PooledDb {
    fn ping(&mut self) -> Result<(), diesel::result::Error> {
        self.conn.batch_execute("SELECT 1")
    }

    /// Before use: a connection idle for a while may have been cut (database restart).
    fn verify_if_idle(&mut self) -> Result<(), DbError> {
        if self.verified_at.elapsed() > VERIFY_AFTER_IDLE {
            if let Err(error) = self.ping() {
                self.broken = true;
                return Err(DbError::Query(error));
            }
            self.verified_at = Instant::now();
        }
        Ok(())
    }

    /// After use: a failure may mean the connection is gone; a success proves it is not.
    fn note_outcome(&mut self, failed: bool) {
        if !failed {
            self.verified_at = Instant::now();
        } else if self.ping().is_err() {
            self.broken = true;
        }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = PooledDb;
    type Error = ConnectError;

    fn connect(&self) -> Result<PooledDb, ConnectError> {
        let conn = self.open()?;
        Ok(PooledDb {
            conn,
            verified_at: Instant::now(),
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut PooledDb) -> Result<(), ConnectError> {
        Ok(conn.ping()?)
    }

    fn has_broken(&self, conn: &mut PooledDb) -> bool {
        conn.broken
    }
}

impl ConnectionManager {
    fn open(&self) -> Result<DbConnection, ConnectError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                Ok(DbConnection::Postgresql(PgConnection::establish(url)?))
            }
            DatabaseUrl::Sqlite(path) => {
                if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder).map_err(|source| {
                        ConnectError::CreateFolder {
                            path: path.display().to_string(),
                            source,
                        }
                    })?;
                }
                let mut conn = open_sqlite(path)?;
                if self.checkpoints == Checkpoints::InBackground {
                    conn.batch_execute("PRAGMA wal_autocheckpoint = 0;")?;
                }
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// A SQLite connection as every process uses it. WAL lets readers run beside one writer
/// (and beside the other server's process); in WAL mode `synchronous = NORMAL` makes a
/// commit durable across a crash of the process (`kill -9` included: the log is in the
/// operating system's hands once the commit returns) and syncs to disk at checkpoints, so a
/// power loss may lose the last commits, never corrupt the file. Foreign keys are off by
/// default in SQLite.
fn open_sqlite(path: &std::path::Path) -> Result<SqliteConnection, ConnectError> {
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;"
    ))?;
    Ok(conn)
}

/// Sends r2d2's connection failures to the log instead of the `log` crate.
#[derive(Debug, Clone, Copy)]
struct TracingErrorHandler;

impl r2d2::HandleError<ConnectError> for TracingErrorHandler {
    fn handle_error(&self, error: ConnectError) {
        tracing::warn!(error = %error, "database connection failed");
    }
}

/// Builds the pool without connecting: a database that is down at startup makes requests
/// answer 503 (and `/readyz` fail) until it comes back, instead of crashing the server.
pub fn build_pool(settings: &DatabaseSettings) -> DbPool {
    build_pool_with(settings, Checkpoints::OnCommit)
}

fn build_pool_with(settings: &DatabaseSettings, checkpoints: Checkpoints) -> DbPool {
    // SQLite has one writer at a time; a few connections are plenty and keep lock waits short.
    let max_size = match settings.url {
        DatabaseUrl::Postgres(_) => settings.pool_size,
        DatabaseUrl::Sqlite(_) => settings.pool_size.min(8),
    };
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        // Health is checked by `PooledDb` when it matters, not with a round trip per checkout.
        .test_on_check_out(false)
        .connection_timeout(settings.timeout)
        .idle_timeout(Some(Duration::from_secs(300)))
        .error_handler(Box::new(TracingErrorHandler))
        .build_unchecked(ConnectionManager::new(settings.url.clone(), checkpoints))
}

/// Why running the migrations failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] r2d2::Error),
    #[error("{0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
}

/// Runs `work` in a transaction that will write. On SQLite the transaction takes the
/// writer lock first (waiting up to the busy timeout), so a read followed by a write cannot
/// fail with "database is locked" when another writer got in between; on PostgreSQL it is
/// a plain transaction (use row conditions for races).
///
/// On SQLite, writers of this process also queue on [`SqliteWriters`] before they begin:
/// SQLite admits one writer at a time, and a writer that finds the lock taken sleeps in its
/// busy handler (1 ms, then 2, 5, 10 …) instead of being woken when the lock is free, which
/// under load cost more time than the writes themselves. Other processes (the CLI, the
/// task API) still meet the busy timeout.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let is_sqlite = matches!(conn, DbConnection::Sqlite(_));
    let _turn = is_sqlite.then(SqliteWriters::wait_turn);
    conn.transaction(|conn| {
        if is_sqlite {
            // BEGIN IMMEDIATE is not reachable through the multi-backend connection; a
            // write statement first does the same: SQLite takes its writer lock when a write
            // statement starts, even one that changes no row.
            native!(conn, |conn| prepared::TakeWriterLock.execute(conn))?;
        }
        work(conn)
    })
}

/// This process's turn at SQLite's single writer lock: one writer at a time, the others
/// parked on a mutex (woken as soon as it is free). Re-entrant on one thread, so a write
/// transaction nested in another (a savepoint) does not wait for itself.
struct SqliteWriters;

static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

thread_local! {
    static HOLDS_WRITER_TURN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Held while this thread writes; gives the turn back when dropped.
struct WriterTurn {
    _guard: Option<std::sync::MutexGuard<'static, ()>>,
}

impl SqliteWriters {
    fn wait_turn() -> WriterTurn {
        if HOLDS_WRITER_TURN.get() {
            return WriterTurn { _guard: None };
        }
        // A writer that panicked left no state behind the mutex: the lock is still good.
        let guard = SQLITE_WRITER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        HOLDS_WRITER_TURN.set(true);
        WriterTurn {
            _guard: Some(guard),
        }
    }
}

impl Drop for WriterTurn {
    fn drop(&mut self) {
        if self._guard.is_some() {
            HOLDS_WRITER_TURN.set(false);
        }
    }
}

/// Runs `work` in a write transaction that no other instance runs at the same time under
/// the same `lock_id`: a PostgreSQL advisory lock, or SQLite's single writer lock.
pub fn exclusive<T, E, F>(conn: &mut DbConnection, lock_id: i64, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let is_postgres = matches!(conn, DbConnection::Postgresql(_));
    write_transaction(conn, |conn| {
        if is_postgres {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({lock_id})")).execute(conn)?;
        }
        work(conn)
    })
}

/// Runs the pending migrations of the connected backend, all or none, and returns the
/// versions applied. Safe to run from several instances at once.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    fn apply<C>(conn: &mut C, migrations: EmbeddedMigrations) -> Result<Vec<String>, MigrationError>
    where
        C: MigrationHarness<C::Backend> + Connection,
    {
        let applied = conn
            .run_pending_migrations(migrations)
            .map_err(|e| MigrationError::Migration(e.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    }
    match conn {
        DbConnection::Postgresql(pg) => pg.transaction(|pg| {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})"))
                .execute(pg)?;
            apply(pg, POSTGRES_MIGRATIONS)
        }),
        DbConnection::Sqlite(sqlite) => {
            sqlite.exclusive_transaction(|sqlite| apply(sqlite, SQLITE_MIGRATIONS))
        }
    }
}

use diesel::RunQueryDsl;

/// Why a backup was not made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("`{0}` exists already: choose a new file (a backup never overwrites one)")]
    Exists(String),
    #[error(
        "this is a PostgreSQL database: back it up with pg_dump (README, \"Backup and restore\")"
    )]
    Postgres,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Writes a consistent copy of the SQLite database to the new file `to` while the servers
/// keep running (`VACUUM INTO`: one read transaction, so the copy is the database at one
/// moment, compacted; the WAL's committed pages included).
pub fn backup_sqlite(conn: &mut DbConnection, to: &std::path::Path) -> Result<(), BackupError> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return Err(BackupError::Postgres);
    };
    if to.exists() {
        return Err(BackupError::Exists(to.display().to_string()));
    }
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(to.to_string_lossy().into_owned())
        .execute(sqlite)
        .map_err(DbError::from)?;
    Ok(())
}

/// How many connections clients other than superusers may open to the PostgreSQL server
/// (`max_connections - superuser_reserved_connections`); `None` on SQLite, which has no
/// such limit.
pub fn connection_limit(conn: &mut DbConnection) -> Result<Option<i32>, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Limit {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        available: i32,
    }
    match conn {
        DbConnection::Postgresql(pg) => {
            let limit: Limit = diesel::sql_query(
                "SELECT current_setting('max_connections')::int \
                 - current_setting('superuser_reserved_connections')::int AS available",
            )
            .get_result(pg)?;
            Ok(Some(limit.available))
        }
        DbConnection::Sqlite(_) => Ok(None),
    }
}

/// A database failure, classified for the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had in time: the database is down or overloaded.
    #[error("database unavailable: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    /// The database job did not run to its end (the server is shutting down).
    #[error("database task cancelled")]
    Cancelled,
}

impl DbError {
    /// True when the failure is the database being unreachable or busy (answer 503),
    /// false when the query itself is wrong (a bug: answer 500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Pool(_) | Self::Cancelled => true,
            Self::Query(diesel::result::Error::DatabaseError(kind, info)) => match kind {
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                    true
                }
                DatabaseErrorKind::Unknown => {
                    let message = info.message();
                    [
                        "database is locked",
                        "server closed the connection",
                        "no connection to the server",
                        "terminating connection",
                        "connection to server",
                        "the database system is",
                        "disk I/O error",
                    ]
                    .iter()
                    .any(|needle| message.contains(needle))
                }
                _ => false,
            },
            Self::Query(_) => false,
        }
    }

    /// True for a violated unique constraint (a duplicate the caller should report).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(diesel::result::Error::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// The pool plus a way to run diesel work off the async workers.
#[derive(Debug, Clone)]
pub struct Db {
    pool: DbPool,
    /// `sqlite` or `postgresql`: the `db.system.name` of its trace spans.
    system: &'static str,
    executor: std::sync::Arc<executor::Executor>,
    /// SQLite's writer thread (see [`Db::write`]); PostgreSQL commits each on its own.
    group_commit: Option<std::sync::Arc<group_commit::GroupCommit>>,
    /// A server's SQLite checkpointer, stopped when the last `Db` clone is dropped.
    _checkpointer: Option<std::sync::Arc<checkpoint::Checkpointer>>,
}

impl Db {
    /// The pool of `settings`, with its work run on threads of its own: one a connection,
    /// and for SQLite (one writer at a time) no more than the cores this process may use.
    pub fn connect(settings: &DatabaseSettings) -> Self {
        Self::connect_with(settings, Checkpoints::OnCommit)
    }

    /// As [`Db::connect`], for a long-running server: SQLite checkpoints run on a thread
    /// of their own, off every request's path.
    pub fn connect_server(settings: &DatabaseSettings) -> Self {
        let mut db = Self::connect_with(settings, Checkpoints::InBackground);
        if let DatabaseUrl::Sqlite(path) = &settings.url {
            db._checkpointer = Some(std::sync::Arc::new(checkpoint::Checkpointer::start(
                path.clone(),
            )));
        }
        db
    }

    fn connect_with(settings: &DatabaseSettings, checkpoints: Checkpoints) -> Self {
        let pool = build_pool_with(settings, checkpoints);
        let threads = match settings.url {
            DatabaseUrl::Postgres(_) => pool.max_size(),
            DatabaseUrl::Sqlite(_) => {
                let cores = std::thread::available_parallelism().map_or(1, usize::from);
                pool.max_size()
                    .min(u32::try_from(cores).unwrap_or(u32::MAX))
            }
        };
        let threads = usize::try_from(threads).unwrap_or(1);
        let group_commit = matches!(settings.url, DatabaseUrl::Sqlite(_))
            .then(|| std::sync::Arc::new(group_commit::GroupCommit::start(pool.clone())));
        let system = match settings.url {
            DatabaseUrl::Postgres(_) => "postgresql",
            DatabaseUrl::Sqlite(_) => "sqlite",
        };
        Self {
            pool,
            system,
            executor: std::sync::Arc::new(executor::Executor::start("db", threads)),
            group_commit,
            _checkpointer: None,
        }
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Runs `work` with a pooled connection on the database threads (diesel is
    /// synchronous and must never run on an async worker).
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.run_traced_as("query", work).await
    }

    /// [`Db::run`], its trace span named for `operation`.
    async fn run_traced_as<T, E, F>(&self, operation: &'static str, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = self.span(operation);
        self.executor
            .run(move || {
                let mut pooled = pool.get().map_err(|error| {
                    crate::metrics::metrics().pool_timeouts.inc();
                    DbError::from(error)
                })?;
                pooled.verify_if_idle()?;
                let result = work(&mut pooled);
                pooled.note_outcome(result.is_err());
                result
            })
            .instrument(span)
            .await
            .map_err(|_| E::from(DbError::Cancelled))?
    }

    /// The trace span of one database call, from its queueing to its result: a child of
    /// the request's span (`debug`, so the log leaves it out; traces keep it).
    fn span(&self, operation: &'static str) -> tracing::Span {
        tracing::debug_span!(
            "database",
            otel.name = %format_args!("{} {}", operation, self.system),
            otel.kind = "client",
            db.system.name = self.system,
            db.operation.name = operation,
        )
    }

    /// Runs `work` in a write transaction, as [`write_transaction`] does, and returns its
    /// result once the transaction has committed. On SQLite it shares its commit with the
    /// other writes queued at the same moment, each in a savepoint of its own (see
    /// [`group_commit`]): same answers, a fraction of the commits.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        match &self.group_commit {
            Some(writer) => writer
                .write(work)
                .instrument(self.span("transaction"))
                .await
                .map_err(|_| E::from(DbError::Cancelled))?,
            None => {
                self.run_traced_as("transaction", move |conn| write_transaction(conn, work))
                    .await
            }
        }
    }

    /// Groups the SQLite writer has committed and the write transactions they held.
    pub fn committed_groups(&self) -> Option<(u64, u64)> {
        self.group_commit.as_ref().map(|writer| writer.committed())
    }

    /// Whether the database answers a trivial query now (for `/readyz`).
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|conn| conn.batch_execute("SELECT 1").map_err(DbError::from))
            .await
    }

    /// Applies pending migrations (blocking; call at startup or from the CLI).
    pub fn migrate(&self) -> Result<Vec<String>, MigrationError> {
        let mut conn = self.pool.get()?;
        run_migrations(&mut conn)
    }
}
