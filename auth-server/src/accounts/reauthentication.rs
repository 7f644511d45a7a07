//! Asking a signed-in person for their password again before a change only the owner may
//! make (a new password or email address, deleting the account): a wrong password counts towards the
//! sign-in lockout as at `/login` (SECURITY.md 24), and a locked name is refused before
//! any password is checked.

use shared::audit::{AuditEvent, AuditLog};
use shared::db::Db;
use shared::models::login_throttle::{FailureOutcome, LoginThrottle};
use shared::models::now;
use shared::models::user::User;

use super::AccountError;
use super::login::LoginPolicy;
use crate::password_hash::PasswordHashing;

/// What the password protects, for the audit rows of refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ChangePassword,
    ChangeEmail,
    DeleteAccount,
}

impl Action {
    fn refused(self) -> &'static str {
        match self {
            Action::ChangePassword => "password_change_refused",
            Action::ChangeEmail => "email_change_refused",
            Action::DeleteAccount => "account_deletion_refused",
        }
    }

    fn refused_locked(self) -> &'static str {
        match self {
            Action::ChangePassword => "password_change_refused_locked",
            Action::ChangeEmail => "email_change_refused_locked",
            Action::DeleteAccount => "account_deletion_refused_locked",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Confirmed,
    WrongPassword,
    /// Too many wrong passwords: the account's name is locked for a while.
    LockedOut,
}

/// Where a password check reads and records.
#[derive(Debug, Clone, Copy)]
pub struct Checker<'a> {
    pub db: &'a Db,
    pub hashing: &'a PasswordHashing,
    pub audit: &'a AuditLog,
    pub policy: LoginPolicy,
}

impl Checker<'_> {
    /// Checks `password` against `user`'s, for `action`.
    pub async fn confirm(
        &self,
        user: &User,
        password: String,
        action: Action,
        ip: Option<&str>,
    ) -> Result<Verdict, AccountError> {
        let key = user.username.clone();
        let locked = self
            .db
            .run(move |conn| LoginThrottle::locked_until(conn, &key, now()))
            .await?;
        if locked.is_some() {
            self.audit.record(
                AuditEvent::new(action.refused_locked())
                    .user(Some(&user.id))
                    .ip(ip),
            );
            return Ok(Verdict::LockedOut);
        }
        if self
            .hashing
            .verify(password, Some(user.password_hash.clone()))
            .await?
        {
            return Ok(Verdict::Confirmed);
        }
        let outcome = self
            .policy
            .count_failure(self.db, user.username.clone())
            .await?;
        self.audit.record(
            AuditEvent::new(action.refused())
                .user(Some(&user.id))
                .ip(ip),
        );
        Ok(match outcome {
            FailureOutcome::LockedNow { .. } => Verdict::LockedOut,
            FailureOutcome::Counted { .. } => Verdict::WrongPassword,
        })
    }
}
