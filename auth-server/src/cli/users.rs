//! `users create`: an account made by an operator, its password read from stdin (never an
//! argument, which other users of the machine could see); prints the account as JSON.
//! `users reset-password`: a password-reset link for the operator to hand over (nothing is
//! mailed). `users disable-mfa`: turns two-factor sign-in off for a person who lost their
//! authenticator and recovery codes. `users delete`: the account and everything of it, as
//! from its account page.

use std::io::Read as _;

use clap::Subcommand;
use shared::config::{PasswordHashSettings, Settings};

use shared::db::Db;
use shared::models::user::User;

use super::{CliError, find_user, open_db, print_json_line};
use crate::accounts::AccountError;
use crate::accounts::deletion::{self, DeletedBy};
use crate::accounts::mail_links::{self, Binding, RESET_PASSWORD_PATH, RESET_PASSWORD_VALIDITY};
use crate::accounts::register::{self, NewAccount, RegisterError};
use crate::accounts::two_factor::enrolment;
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
    /// Print a password-reset link (valid 30 minutes, once) to hand to the person.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Turn two-factor sign-in off (for a person who lost their authenticator app and
    /// recovery codes, once you know it is them); they can set it up again.
    DisableMfa {
        #[arg(long)]
        username: String,
    },
    /// Delete a user with their tasks, API keys, sessions, consents and grants.
    Delete {
        #[arg(long)]
        username: String,
    },
}

pub(super) async fn run(settings: &Settings, command: UsersCommand) -> Result<(), CliError> {
    match command {
        UsersCommand::Create { username, email } => create(settings, &username, &email).await,
        UsersCommand::ResetPassword { username } => reset_link(settings, &username).await,
        UsersCommand::DisableMfa { username } => disable_mfa(settings, &username).await,
        UsersCommand::Delete { username } => delete(settings, &username).await,
    }
}

async fn existing_user(db: &Db, username: &str) -> Result<User, CliError> {
    find_user(db, username)
        .await?
        .ok_or_else(|| CliError::NotFound(format!("--username: no such user: {username}")))
}

async fn reset_link(settings: &Settings, username: &str) -> Result<(), CliError> {
    let db = open_db(settings)?;
    let user = existing_user(&db, username).await?;
    let (user_id, password_hash) = (user.id.clone(), user.password_hash.clone());
    let token = db
        .write(move |conn| mail_links::issue(conn, &user_id, Binding::PasswordHash(&password_hash)))
        .await?;
    tracing::info!(target: "security", event = "password_reset_link_issued", user_id = %user.id, by = "operator");
    print_json_line(&serde_json::json!({
        "username": user.username,
        "reset_link": mail_links::link(&settings.urls.issuer, RESET_PASSWORD_PATH, &token),
        "expires_in": RESET_PASSWORD_VALIDITY.num_seconds(),
    }))
}

async fn disable_mfa(settings: &Settings, username: &str) -> Result<(), CliError> {
    let db = open_db(settings)?;
    let user = existing_user(&db, username).await?;
    let was_on = enrolment::turn_off(&db, &user.id, "operator", None)
        .await
        .map_err(account_error)?;
    print_json_line(&serde_json::json!({
        "username": user.username,
        "mfa_disabled": was_on,
    }))
}

async fn delete(settings: &Settings, username: &str) -> Result<(), CliError> {
    let db = open_db(settings)?;
    let user = existing_user(&db, username).await?;
    let deleted = deletion::delete(&db, user.id.clone(), DeletedBy::Operator, None)
        .await
        .map_err(account_error)?;
    let Some(deleted) = deleted else {
        return Err(CliError::NotFound(format!(
            "--username: no such user: {username}"
        )));
    };
    print_json_line(&serde_json::json!({
        "deleted": user.id,
        "username": user.username,
        "sessions_ended": deleted.ended_sessions.len(),
    }))
}

fn account_error(error: AccountError) -> CliError {
    match error {
        AccountError::Unavailable(error) => CliError::Unavailable(error.to_string()),
        other => CliError::Failed(other.to_string()),
    }
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
