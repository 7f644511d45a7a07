//! `users create`: an account made by an operator, its password read from stdin (never an
//! argument, which other users of the machine could see); prints the account as JSON.

use std::io::Read as _;

use clap::Subcommand;
use shared::config::{PasswordHashSettings, Settings};

use super::{CliError, open_db, print_json_line};
use crate::accounts::AccountError;
use crate::accounts::register::{self, NewAccount, RegisterError};
use crate::domain::{EmailAddress, NewPassword, Username};
use crate::password_hash::PasswordHashing;

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

pub(super) async fn run(settings: &Settings, command: UsersCommand) -> Result<(), CliError> {
    let UsersCommand::Create { username, email } = command;
    create(settings, &username, &email).await
}

async fn create(settings: &Settings, username: &str, email: &str) -> Result<(), CliError> {
    let password = read_password()?;
    let account = NewAccount {
        username: Username::parse(username)
            .map_err(|m| CliError::Invalid(format!("--username: {m}")))?,
        email: EmailAddress::parse(email)
            .map_err(|m| CliError::Invalid(format!("--email: {m}")))?,
        password: NewPassword::parse(&password, username, email)
            .map_err(|m| CliError::Invalid(format!("password: {m}")))?,
    };
    let db = open_db(settings)?;
    // One account: one thread, and a queue no second job will ever wait in.
    let hashing = PasswordHashing::start(&PasswordHashSettings {
        threads: 1,
        queue: 1,
    })
    .map_err(|e| CliError::Failed(format!("cannot start a password-hashing thread: {e}")))?;
    let user = register::create_account(&db, &hashing, account)
        .await
        .map_err(|e| match e {
            RegisterError::Taken => CliError::Conflict(
                "that username or email address is already registered".to_owned(),
            ),
            RegisterError::Failed(AccountError::Unavailable(error)) => {
                CliError::Unavailable(error.to_string())
            }
            other => CliError::Failed(other.to_string()),
        })?;
    print_json_line(
        &serde_json::json!({ "id": user.id, "username": user.username, "email": user.email }),
    )
}

/// All of stdin, less one trailing newline from `echo` or a terminal (not part of the
/// password).
fn read_password() -> Result<String, CliError> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| {
            let message = format!("cannot read the password from standard input: {e}");
            if e.kind() == std::io::ErrorKind::InvalidData {
                CliError::Invalid(message)
            } else {
                CliError::Failed(message)
            }
        })?;
    let trimmed = password.strip_suffix('\n').unwrap_or(&password);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    Ok(trimmed.to_owned())
}
