//! Creating an account, from the sign-up page or the operator CLI.

use shared::db::Db;
use shared::models::now;
use shared::models::user::{NewUser, User};

use super::AccountError;
use crate::domain::{EmailAddress, NewPassword, Username};
use crate::password_hash;

/// Validated sign-up input.
#[derive(Debug)]
pub struct NewAccount {
    pub username: Username,
    pub email: EmailAddress,
    pub password: NewPassword,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The username or the email is registered already (which one is not said).
    #[error("username or email already registered")]
    Taken,
    #[error(transparent)]
    Failed(#[from] AccountError),
}

/// Hashes the password (argon2id, on the blocking pool) and stores the account.
pub async fn create_account(db: &Db, account: NewAccount) -> Result<User, RegisterError> {
    let NewAccount {
        username,
        email,
        password,
    } = account;
    let password_hash = tokio::task::spawn_blocking(move || password_hash::hash(password.expose()))
        .await
        .map_err(|e| AccountError::PasswordHashing(format!("the hashing task failed: {e}")))?
        .map_err(|e| AccountError::PasswordHashing(e.to_string()))?;
    let created = db
        .run(move |conn| {
            let at = now();
            let id = uuid::Uuid::now_v7().to_string();
            User::insert(
                conn,
                &NewUser {
                    id: &id,
                    username: username.as_str(),
                    email: email.as_str(),
                    password_hash: &password_hash,
                    created_at: at,
                    updated_at: at,
                },
            )?;
            User::find(conn, &id)
        })
        .await;
    match created {
        Ok(Some(user)) => {
            tracing::info!(target: "security", event = "account_created", user_id = %user.id);
            Ok(user)
        }
        Ok(None) => Err(AccountError::AccountVanished.into()),
        Err(error) if error.is_unique_violation() => Err(RegisterError::Taken),
        Err(error) => Err(AccountError::from(error).into()),
    }
}
