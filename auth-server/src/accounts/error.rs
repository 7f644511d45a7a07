//! `AccountError`: how account logic fails, with no word about pages. The web layer maps it
//! to `AppError` in one place (`error.rs`); the CLI prints it.

use shared::db::DbError;

use crate::password_hash::HashingError;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The database cannot be reached now (a 503 page; it recovers by itself).
    #[error("the database is unavailable: {0}")]
    Unavailable(DbError),
    /// The database refused or failed the query: a bug or a broken database.
    #[error("database error: {0}")]
    Database(DbError),
    /// Hashing or verifying a password could not be done.
    #[error("password hashing failed: {0}")]
    PasswordHashing(String),
    /// Every password-hashing thread is busy and its queue is full: nothing was checked or
    /// stored, and the same request may work in a moment (a 503 page with `Retry-After`).
    #[error("too many sign-ins and sign-ups are being processed right now")]
    PasswordHashingBusy,
    /// A TOTP secret cannot be opened: sealed under another `KEY_ENCRYPTION_KEY`.
    #[error("the two-factor secret cannot be decrypted with this KEY_ENCRYPTION_KEY")]
    SecondFactorUnreadable,
    /// An account just stored could not be read back.
    #[error("the new account could not be read back")]
    AccountVanished,
}

impl From<DbError> for AccountError {
    fn from(error: DbError) -> Self {
        if error.is_unavailable() {
            Self::Unavailable(error)
        } else {
            Self::Database(error)
        }
    }
}

impl From<HashingError> for AccountError {
    fn from(error: HashingError) -> Self {
        match error {
            HashingError::Busy => Self::PasswordHashingBusy,
            HashingError::Failed(cause) => Self::PasswordHashing(cause),
        }
    }
}
