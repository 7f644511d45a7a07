//! The real servers' database for one test, as the e2e tests make it
//! (`tests/tests/api/support/database.rs`): a temporary SQLite file, or a new PostgreSQL
//! database when `TEST_DATABASE_URL=postgres://…` is set; deleted with the test.

use diesel::Connection as _;
use diesel::RunQueryDsl as _;

pub enum TestDatabase {
    Sqlite { dir: std::path::PathBuf },
    Postgres { admin_url: String, name: String },
}

/// A random name part for databases and files.
fn unique() -> String {
    crate::planted::values::random("")
        .replace(['-', '_'], "x")
        .to_ascii_lowercase()
}

impl TestDatabase {
    /// A fresh, empty database and the URL to reach it.
    pub fn create() -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let name = format!("scan_{}", unique());
                let mut admin = diesel::PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
                });
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .expect("create the test database");
                let url = replace_database_name(&admin_url, &name);
                (Self::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = std::env::temp_dir().join(format!("security-scan-test-{}", unique()));
                let url = format!("sqlite://{}", dir.join("scan.sqlite3").display());
                (Self::Sqlite { dir }, url)
            }
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "SQLite",
            Self::Postgres { .. } => "PostgreSQL",
        }
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
fn replace_database_name(url: &str, name: &str) -> String {
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
