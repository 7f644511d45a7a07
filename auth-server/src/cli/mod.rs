//! The operator CLI: the clap tree and the dispatch to one module per command group
//! (`server`: `serve`, `migrate`; `users`, `clients`, `keys`, `api_keys`, `audit`,
//! `backup`, `doctor`). Every command reads the same settings as the server (environment, or a TOML
//! file named by `--config`).
//!
//! Output contract (README, "Operator CLI"): a command's result goes to stdout — JSON for
//! every command but `migrate`, `serve` and `doctor` (text unless `--format json`) — and
//! nothing else does; logs and the error message go to stderr. A failure is a [`CliError`], whose kind sets the exit code.

mod api_keys;
mod audit;
mod backup;
mod clients;
mod doctor;
mod error;
mod keys;
mod server;
mod users;

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use shared::config::Settings;
use shared::db::Db;
use shared::models::user::User;

pub use api_keys::ApiKeysCommand;
pub use audit::AuditCommand;
pub use clients::ClientsCommand;
pub use error::CliError;
pub use keys::KeysCommand;
pub use users::UsersCommand;

#[derive(Debug, Parser)]
#[command(
    name = "auth-server",
    version,
    about = "OAuth 2.0 authorization server"
)]
pub struct Cli {
    /// A TOML file of settings (environment variables override it).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the authorization server (migrates the database first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage OAuth clients (the apps that ask users for access).
    Clients {
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Manage the keys that sign access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage users' personal API keys.
    ApiKeys {
        #[command(subcommand)]
        command: ApiKeysCommand,
    },
    /// Read the security events kept in the audit table.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Copy the SQLite database to a new file while the servers run (PostgreSQL: use
    /// pg_dump).
    Backup {
        /// The new file to write; never overwritten.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Check the configuration and the database for unsafe choices; exits non-zero on any
    /// high finding.
    Doctor {
        /// `text` for a person, `json` for a program.
        #[arg(long, value_enum, default_value = "text")]
        format: doctor::Format,
    },
}

/// Loads the settings, starts logging (to stderr) and runs the command.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let settings = Settings::load(cli.config.as_deref())?;
    // Only the server sends traces; a one-off command's spans would be noise.
    let traces = matches!(cli.command, Command::Serve)
        .then(|| shared::telemetry::TraceExport::of(&settings, "auth-server"))
        .flatten();
    shared::telemetry::init(settings.log_format, traces);
    match cli.command {
        Command::Serve => {
            let served = server::serve(settings).await;
            shared::telemetry::traces::shutdown();
            served
        }
        Command::Migrate => server::migrate(&settings),
        Command::Users { command } => users::run(&settings, command).await,
        Command::Clients { command } => clients::run(&settings, command).await,
        Command::Keys { command } => keys::run(&settings, command).await,
        Command::ApiKeys { command } => api_keys::run(&settings, command).await,
        Command::Audit { command } => audit::run(&settings, command).await,
        Command::Backup { to } => backup::run(&settings, to).await,
        Command::Doctor { format } => doctor::run(&settings, format).await,
    }
}

/// The database of the settings, migrated first (every command but `serve` and `migrate`).
fn open_db(settings: &Settings) -> Result<Db, CliError> {
    let db = Db::connect(&settings.database);
    db.migrate()?;
    Ok(db)
}

/// The user of a username as typed (compared in its normalised form).
async fn find_user(db: &Db, username: &str) -> Result<Option<User>, CliError> {
    let username = crate::domain::username::normalize(username);
    Ok(db
        .run(move |conn| User::find_by_username(conn, &username))
        .await?)
}

/// Writes a command's result to stdout: one line of text.
fn print_line(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::Failed(format!("cannot write to standard output: {e}")))
}

/// Writes a command's result to stdout: a JSON document, indented.
fn print_json(value: &serde_json::Value) -> Result<(), CliError> {
    print_line(&format!("{value:#}"))
}

/// Writes a command's result to stdout: a JSON document on one line.
fn print_json_line(value: &serde_json::Value) -> Result<(), CliError> {
    print_line(&value.to_string())
}

/// A time as the CLI prints it: RFC 3339, UTC.
fn rfc3339(at: chrono::NaiveDateTime) -> String {
    at.and_utc().to_rfc3339()
}
