//! `audit list`: the security events of the audit table, newest first, as JSON.

use clap::Subcommand;
use serde_json::{Value, json};
use shared::config::Settings;
use shared::models::audit_event::{AuditEventRow, AuditFilter};
use shared::models::now;

use super::{CliError, find_user, open_db, print_json, rfc3339};

/// The most events one `audit list` prints.
const MAX_LIMIT: i64 = 10_000;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print the newest events first, as JSON.
    List {
        /// Only events of this kind (e.g. login_failure, code_replay, rate_limit_block).
        #[arg(long)]
        kind: Option<String>,
        /// Only events of this user (a username).
        #[arg(long)]
        user: Option<String>,
        /// Only events of this client (a client_id).
        #[arg(long)]
        client: Option<String>,
        /// Only events from this long ago or later, e.g. 30m, 24h, 7d.
        #[arg(long)]
        since: Option<String>,
        /// At most this many events (1 to 10000).
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

pub(super) async fn run(settings: &Settings, command: AuditCommand) -> Result<(), CliError> {
    let AuditCommand::List {
        kind,
        user,
        client,
        since,
        limit,
    } = command;
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(CliError::Invalid(format!(
            "--limit must be from 1 to {MAX_LIMIT}"
        )));
    }
    let since = since.as_deref().map(parse_since).transpose()?;
    let db = open_db(settings)?;
    let user_id = match user {
        None => None,
        Some(username) => Some(
            find_user(&db, &username)
                .await?
                .ok_or_else(|| CliError::NotFound(format!("no such user: {username}")))?
                .id,
        ),
    };
    let filter = AuditFilter {
        kind,
        user_id,
        client_id: client,
        since,
        limit,
    };
    let rows = db
        .run(move |conn| AuditEventRow::list(conn, &filter))
        .await?;
    print_json(&Value::Array(rows.into_iter().map(event_json).collect()))
}

/// `--since 24h`: the moment that long ago.
fn parse_since(text: &str) -> Result<chrono::NaiveDateTime, CliError> {
    let ago = shared::config::parse_duration(text)
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .ok_or_else(|| {
            CliError::Invalid(format!(
                "--since: `{text}` is not a duration like 30m, 24h or 7d"
            ))
        })?;
    Ok(now() - ago)
}

/// An event as the CLI prints it; `detail` as the JSON it holds.
fn event_json(row: AuditEventRow) -> Value {
    json!({
        "at": rfc3339(row.at),
        "kind": row.kind,
        "user_id": row.user_id,
        "client_id": row.client_id,
        "ip": row.ip,
        "detail": serde_json::from_str::<Value>(&row.detail)
            .unwrap_or(Value::String(row.detail)),
    })
}
