//! Creating an account, from the sign-up page or the operator CLI.

use shared::db::Db;
use shared::models::now;
use shared::models::user::{NewUser, User};

use super::AccountError;
use crate::domain::{EmailAddress, NewPassword, Username};
use crate::password_hash::PasswordHashing;

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

/// Hashes the password (argon2id, on the hashing threads) and stores the account. A full
/// hashing queue is [`AccountError::PasswordHashingBusy`], with nothing stored.
pub async fn create_account(
    db: &Db,
    hashing: &PasswordHashing,
    account: NewAccount,
) -> Result<User, RegisterError> {
    let NewAccount {
        username,
        email,
        password,
    } = account;
    let password_hash = hashing.hash(password).await.map_err(AccountError::from)?;
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
