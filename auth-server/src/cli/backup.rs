//! `backup --to FILE`: a consistent copy of the SQLite database, taken while the servers
//! run (`shared::db::backup_sqlite`). PostgreSQL is backed up with its own tools
//! (`pg_dump`); README's "Backup and restore" has both.

use std::path::PathBuf;

use serde_json::json;
use shared::config::Settings;
use shared::db::BackupError;

use super::{CliError, open_db, print_json};

pub(super) async fn run(settings: &Settings, to: PathBuf) -> Result<(), CliError> {
    let db = open_db(settings)?;
    let target = to.clone();
    db.run(move |conn| shared::db::backup_sqlite(conn, &target))
        .await
        .map_err(|error| match error {
            BackupError::Exists(_) => CliError::Conflict(error.to_string()),
            BackupError::Postgres => CliError::Invalid(error.to_string()),
            BackupError::Db(db) => db.into(),
        })?;
    let bytes = std::fs::metadata(&to).map(|m| m.len()).unwrap_or_default();
    tracing::info!(to = %to.display(), bytes, "database backed up");
    print_json(&json!({ "backup": to.display().to_string(), "bytes": bytes }))
}
