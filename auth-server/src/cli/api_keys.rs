//! `api-keys create`: a personal API key for a user, printed once as JSON.

use clap::Subcommand;
use serde_json::json;
use shared::config::Settings;

use super::{CliError, find_user, open_db, print_json, rfc3339};
use crate::accounts::api_keys::{self, NewApiKey};

#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create an API key for a user; prints it (shown this once).
    Create {
        /// The username.
        #[arg(long)]
        user: String,
        /// Space-separated scopes.
        #[arg(long)]
        scope: String,
        /// Lifetime: 1d to 365d.
        #[arg(long, default_value = "30d")]
        expires_in: String,
        #[arg(long, default_value = "CLI key")]
        name: String,
    },
}

pub(super) async fn run(settings: &Settings, command: ApiKeysCommand) -> Result<(), CliError> {
    let ApiKeysCommand::Create {
        user,
        scope,
        expires_in,
        name,
    } = command;
    let days = shared::config::parse_duration(&expires_in)
        .map(|d| i64::try_from(d.as_secs() / 86_400).unwrap_or(i64::MAX))
        .ok_or_else(|| {
            CliError::Invalid(format!(
                "--expires-in: `{expires_in}` is not a duration like 30d"
            ))
        })?;
    let db = open_db(settings)?;
    let found = find_user(&db, &user)
        .await?
        .ok_or_else(|| CliError::NotFound(format!("--user: no such user: {user}")))?;
    let new = NewApiKey {
        name,
        scope,
        expires_in_days: days,
    };
    let (row, key) = api_keys::create(&db, found.id, new)
        .await?
        .map_err(CliError::Invalid)?;
    print_json(&json!({
        "id": row.id,
        "key": key.expose(),
        "name": row.name,
        "scope": row.scopes,
        "expires_at": rfc3339(row.expires_at),
    }))
}
