//! The operator CLI: `serve`, `migrate`, `users create`. Every command reads the same
//! settings as the server (environment, or a TOML file named by `--config`).

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared::config::Settings;
use shared::db::{Db, build_pool};

use crate::accounts::register::{self, NewAccount, RegisterError};
use crate::domain::{EmailAddress, NewPassword, Username};
use crate::startup::Application;

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
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
    },
}

pub async fn run(cli: Cli) -> ExitCode {
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("auth-server: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    shared::telemetry::init(settings.log_format);
    let result = match cli.command {
        Command::Serve => serve(settings).await,
        Command::Migrate => migrate(&settings),
        Command::Users {
            command: UsersCommand::Create { username, email },
        } => create_user(&settings, &username, &email).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("auth-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    let app = Application::build(settings)
        .await
        .map_err(|e| e.to_string())?;
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

fn migrate(settings: &Settings) -> Result<(), String> {
    let db = Db::new(build_pool(settings));
    let applied = db.migrate().map_err(|e| e.to_string())?;
    if applied.is_empty() {
        println!("database is up to date ({})", settings.database_url);
    } else {
        println!(
            "applied {} migration(s) to {}: {}",
            applied.len(),
            settings.database_url,
            applied.join(", ")
        );
    }
    Ok(())
}

async fn create_user(settings: &Settings, username: &str, email: &str) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    // A trailing newline from `echo` or a terminal is not part of the password.
    let password = password.strip_suffix('\n').unwrap_or(&password);
    let password = password.strip_suffix('\r').unwrap_or(password);

    let account = NewAccount {
        username: Username::parse(username).map_err(|m| format!("--username: {m}"))?,
        email: EmailAddress::parse(email).map_err(|m| format!("--email: {m}"))?,
        password: NewPassword::parse(password, username, email)
            .map_err(|m| format!("password: {m}"))?,
    };
    let db = Db::new(build_pool(settings));
    db.migrate().map_err(|e| e.to_string())?;
    let user = register::create_account(&db, account)
        .await
        .map_err(|e| match e {
            RegisterError::Taken => {
                "that username or email address is already registered".to_owned()
            }
            RegisterError::Failed(error) => error.to_string(),
        })?;
    println!(
        "{}",
        serde_json::json!({ "id": user.id, "username": user.username, "email": user.email })
    );
    Ok(())
}
