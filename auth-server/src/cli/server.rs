//! `serve` (run the authorization server) and `migrate` (apply pending migrations).

use shared::config::Settings;
use shared::db::Db;

use super::{CliError, print_line};
use crate::startup;

pub(super) async fn serve(settings: Settings) -> Result<(), CliError> {
    let app = startup::build(settings)
        .await
        .map_err(|e| CliError::Failed(e.to_string()))?;
    app.run_until_stopped()
        .await
        .map_err(|e| CliError::Failed(e.to_string()))
}

/// Prints which migrations were applied (text, not JSON).
pub(super) fn migrate(settings: &Settings) -> Result<(), CliError> {
    let db = Db::connect(&settings.database);
    let applied = db.migrate()?;
    if applied.is_empty() {
        print_line(&format!(
            "database is up to date ({})",
            settings.database.url
        ))
    } else {
        print_line(&format!(
            "applied {} migration(s) to {}: {}",
            applied.len(),
            settings.database.url,
            applied.join(", ")
        ))
    }
}
