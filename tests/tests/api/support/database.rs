//! The test's own database — a temporary SQLite file, or a new PostgreSQL database when
//! `TEST_DATABASE_URL=postgres://…` is set — dropped with the test; direct queries to check
//! what was stored or to move time forward; and write locks the test holds itself.

use diesel::Connection as _;
use diesel::RunQueryDsl as _;
use shared::db::{DbConnection, DbError};

use super::servers::TestApp;

/// Where this test's data lives; dropped (deleted) with the test.
pub enum TestDatabase {
    Sqlite { dir: std::path::PathBuf },
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A fresh, empty database and the URL to reach it.
    pub fn create() -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let name = format!("test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = diesel::PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
                });
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .expect("create test database");
                let url = replace_database_name(&admin_url, &name);
                (Self::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = std::env::temp_dir()
                    .join(format!("oauth-test-{}", uuid::Uuid::new_v4().simple()));
                let url = format!("sqlite://{}", dir.join("test.sqlite3").display());
                (Self::Sqlite { dir }, url)
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            Self::Sqlite { dir } => {
                let _ignored = std::fs::remove_dir_all(dir);
            }
            Self::Postgres { admin_url, name } => {
                if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
                    let _ignored = diesel::sql_query(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .execute(&mut admin);
                }
            }
        }
    }
}

/// `postgres://u@h:5432/test?x=y` with the database name replaced.
pub fn replace_database_name(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let (scheme, rest) = base.split_once("://").expect("a URL");
    let authority = rest.split('/').next().unwrap_or(rest);
    let mut replaced = format!("{scheme}://{authority}/{name}");
    if let Some(query) = query {
        replaced.push('?');
        replaced.push_str(query);
    }
    replaced
}

impl TestApp {
    /// Runs a query against this app's database.
    pub async fn query<T, F>(&self, work: F) -> T
    where
        F: FnOnce(&mut DbConnection) -> Result<T, diesel::result::Error> + Send + 'static,
        T: Send + 'static,
    {
        self.db
            .run(move |conn| work(conn).map_err(DbError::from))
            .await
            .expect("test query")
    }
}

/// A write lock held by the test on its own connection until the returned sender fires or
/// is dropped: on SQLite the database's single writer lock, on PostgreSQL an `ACCESS
/// EXCLUSIVE` lock on `table` (every use of the table waits, reads too, so a request
/// blocked by it has done nothing with the table yet). The receiver fires once
/// the lock is held.
pub struct HeldWriteLock {
    pub held: tokio::sync::oneshot::Receiver<()>,
    release_tx: tokio::sync::oneshot::Sender<()>,
    holder: std::thread::JoinHandle<()>,
}

impl TestApp {
    pub fn hold_write_lock(&self, table: &'static str) -> HeldWriteLock {
        let pool = self.db.pool().clone();
        let (held_tx, held) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
        let holder = std::thread::spawn(move || {
            let mut conn = pool.get().expect("a connection for the lock");
            shared::db::write_transaction::<_, DbError, _>(&mut conn, |conn| {
                if matches!(conn, DbConnection::Postgresql(_)) {
                    diesel::sql_query(format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
                        .execute(conn)?;
                }
                let _ignored = held_tx.send(());
                let _released_or_dropped = release_rx.blocking_recv();
                Ok(())
            })
            .expect("lock transaction");
        });
        HeldWriteLock {
            held,
            release_tx,
            holder,
        }
    }
}

impl HeldWriteLock {
    /// Releases the lock and waits until its transaction has ended.
    pub async fn release(self) {
        let _ignored = self.release_tx.send(());
        let holder = self.holder;
        actix_web::rt::task::spawn_blocking(move || holder.join().expect("lock holder"))
            .await
            .expect("join");
    }
}
