//! `doctor`: reads the configuration and the database and grades what it finds (see
//! [`report`]): the settings ([`configuration`]), then the signing keys, the clients and
//! the pool against the database's connection limit ([`store`]). The report goes to
//! stdout — text, or JSON with `--format json` — and the exit status is non-zero when any
//! finding is high, so a deployment pipeline can stop on it. It changes nothing but
//! applying pending migrations, as every command does.

mod configuration;
mod report;
mod store;

use clap::ValueEnum;
use shared::config::Settings;
use shared::models::client::Client;
use shared::models::client_usage::ClientUsage;
use shared::models::now;

use super::{CliError, open_db, print_json, print_line};
use report::{Report, Severity};

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub(super) async fn run(settings: &Settings, format: Format) -> Result<(), CliError> {
    let mut findings = configuration::check(settings, &configuration::defaults()?);
    let db = open_db(settings)?;
    let at = now();
    let warm_up = crate::oauth::keys::warm_up(&settings.keys);
    let (keys, clients, last_used, connection_limit) = db
        .run(move |conn| {
            Ok::<_, shared::db::DbError>((
                crate::oauth::keys::list(conn, at, warm_up)?,
                Client::list(conn)?,
                ClientUsage::all(conn)?,
                shared::db::connection_limit(conn)?,
            ))
        })
        .await?;
    let kek_set = settings.keys.encryption_key.is_some();
    findings.extend(store::check_keys(&keys, kek_set, at));
    findings.extend(store::check_clients(&clients, &last_used, at));
    findings.extend(store::check_pool(
        settings.database.pool_size,
        connection_limit,
    ));
    let report = Report::new(findings);
    match format {
        Format::Text => print_line(report.to_text().trim_end())?,
        Format::Json => print_json(&report.to_json())?,
    }
    match report.count(Severity::High) {
        0 => Ok(()),
        high => Err(CliError::HighFindings(high)),
    }
}
