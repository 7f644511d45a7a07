//! The database section: where the data lives, how many connections, how long to wait.

use std::time::Duration;

use super::ConfigError;
use super::declare::Default::{Described, Value};
use super::declare::{Setting, Source};
use super::urls::{DEFAULT_SQLITE_PATH, DatabaseUrl};
use crate::parse;

/// What the connection pool is built from.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    /// Whether `DATABASE_URL` was given (production insists).
    pub url_given: bool,
    pub pool_size: u32,
    /// How long a request waits for a database connection before answering 503.
    pub timeout: Duration,
}

pub const DATABASE_URL: Setting<DatabaseUrl> = Setting {
    name: "DATABASE_URL",
    default: Described("`./data/oauth.sqlite3`"),
    parse: DatabaseUrl::parse,
    doc: r#"`postgres://…`, `postgresql://…`, `sqlite://PATH` or a file path"#,
};
pub const DATABASE_POOL_SIZE: Setting<u32> = Setting {
    name: "DATABASE_POOL_SIZE",
    default: Value("10"),
    parse: |v| parse::number(v, 1..=1000),
    doc: r#"connections per server (SQLite: at most 8)"#,
};
pub const DATABASE_TIMEOUT: Setting<Duration> = Setting {
    name: "DATABASE_TIMEOUT",
    default: Value("5s"),
    parse: parse::duration_setting,
    doc: r#"wait for a connection before answering 503"#,
};

pub fn read(source: &mut Source) -> Result<DatabaseSettings, ConfigError> {
    Ok(DatabaseSettings {
        url_given: source.is_given(&DATABASE_URL),
        url: source
            .optional(&DATABASE_URL)?
            .unwrap_or_else(|| DatabaseUrl::Sqlite(DEFAULT_SQLITE_PATH.into())),
        pool_size: source.get(&DATABASE_POOL_SIZE)?,
        timeout: source.get(&DATABASE_TIMEOUT)?,
    })
}
