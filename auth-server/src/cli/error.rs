//! `CliError`: every way a command can fail, each kind with its exit code (README,
//! "Operator CLI"), so a script can tell a typo from a missing record from a database that
//! is down. `main` prints the message to stderr and exits with the code.

use shared::config::ConfigError;
use shared::db::{DbError, MigrationError};

use crate::oauth::keys::KeyError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The settings could not be loaded.
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    /// An argument or the standard input was refused; the message names which.
    #[error("{0}")]
    Invalid(String),
    /// The user or client named on the command line does not exist.
    #[error("{0}")]
    NotFound(String),
    /// What was to be created exists already (a username or email address).
    #[error("{0}")]
    Conflict(String),
    /// The database could not be reached or is busy; the same command may work later.
    #[error("{0}")]
    Unavailable(String),
    /// `doctor` found this many high-severity problems (its report is on stdout).
    #[error("doctor: {0} high finding(s); see the report")]
    HighFindings(usize),
    /// Anything else: a failed query, a key that cannot be decrypted, the server stopping
    /// on an error.
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// Anything else.
    pub const EXIT_FAILED: u8 = 1;
    /// A usage error, as clap exits with: a bad argument, setting or input.
    pub const EXIT_INVALID: u8 = 2;
    pub const EXIT_NOT_FOUND: u8 = 3;
    pub const EXIT_CONFLICT: u8 = 4;
    /// `doctor` found a high-severity problem.
    pub const EXIT_FINDINGS: u8 = 5;
    /// `EX_UNAVAILABLE` of sysexits.h.
    pub const EXIT_UNAVAILABLE: u8 = 69;

    /// The process exit code of this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Invalid(_) => Self::EXIT_INVALID,
            Self::NotFound(_) => Self::EXIT_NOT_FOUND,
            Self::Conflict(_) => Self::EXIT_CONFLICT,
            Self::Unavailable(_) => Self::EXIT_UNAVAILABLE,
            Self::Failed(_) => Self::EXIT_FAILED,
            Self::HighFindings(_) => Self::EXIT_FINDINGS,
        }
    }
}

impl From<DbError> for CliError {
    fn from(error: DbError) -> Self {
        if error.is_unavailable() {
            Self::Unavailable(error.to_string())
        } else {
            Self::Failed(error.to_string())
        }
    }
}

impl From<MigrationError> for CliError {
    fn from(error: MigrationError) -> Self {
        let message = error.to_string();
        let unavailable = match error {
            MigrationError::Connect(_) => true,
            MigrationError::Query(query) => DbError::Query(query).is_unavailable(),
            MigrationError::Migration(_) => false,
        };
        if unavailable {
            Self::Unavailable(message)
        } else {
            Self::Failed(message)
        }
    }
}

impl From<KeyError> for CliError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Db(db) => db.into(),
            other => Self::Failed(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_errors_are_told_apart_by_availability() {
        let down = DbError::Cancelled;
        assert_eq!(CliError::from(down).exit_code(), 69);
        let bug = DbError::Query(diesel::result::Error::NotFound);
        assert_eq!(CliError::from(bug).exit_code(), 1);
        let migration = MigrationError::Migration("bad".into());
        assert_eq!(CliError::from(migration).exit_code(), 1);
        let key = KeyError::Db(DbError::Cancelled);
        assert_eq!(CliError::from(key).exit_code(), 69);
    }
}
