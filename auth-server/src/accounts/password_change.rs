//! Changing the password from the account page: the current password is required (see
//! [`super::reauthentication`]), the new one passes the policy, and every other session of
//! the account ends.

use shared::audit::AuditEvent;
use shared::db::DbError;
use shared::models::account_token::{AccountToken, Purpose};
use shared::models::now;
use shared::models::session::Session;
use shared::models::user::User;

use super::AccountError;
use super::reauthentication::{Action, Checker, Verdict};
use crate::domain::NewPassword;
use crate::oidc::logout::{EndedSession, sessions_ending};

#[derive(Debug)]
pub enum ChangeOutcome {
    /// Changed; the apps of the other sessions, which ended, are for the caller to tell.
    Changed { ended_sessions: Vec<EndedSession> },
    /// The current password was wrong (or changed meanwhile elsewhere).
    WrongPassword,
    /// Too many wrong passwords: the account's name is locked for a while.
    LockedOut,
}

/// What the account page's form carries.
pub struct PasswordChange<'a> {
    pub user: &'a User,
    /// The session making the change, which stays signed in.
    pub session_id: &'a str,
    pub current: String,
    pub new: NewPassword,
}

pub async fn change(
    checker: Checker<'_>,
    change: PasswordChange<'_>,
    ip: Option<&str>,
) -> Result<ChangeOutcome, AccountError> {
    let user = change.user;
    match checker
        .confirm(user, change.current, Action::ChangePassword, ip)
        .await?
    {
        Verdict::Confirmed => {}
        Verdict::WrongPassword => return Ok(ChangeOutcome::WrongPassword),
        Verdict::LockedOut => return Ok(ChangeOutcome::LockedOut),
    }
    let (db, audit) = (checker.db, checker.audit);
    let new_hash = checker.hashing.hash(change.new).await?;
    let (user_id, old_hash, keep) = (
        user.id.clone(),
        user.password_hash.clone(),
        change.session_id.to_owned(),
    );
    let ended = db
        .write(move |conn| {
            // The password verified is still the stored one (no change raced this one).
            let current = User::find(conn, &user_id)?;
            if current.is_none_or(|current| current.password_hash != old_hash) {
                return Ok(None);
            }
            let at = now();
            User::set_password_hash(conn, &user_id, &new_hash, at)?;
            AccountToken::retire_all(conn, &user_id, Purpose::ResetPassword, at)?;
            let ended = Session::delete_all_for_user(conn, &user_id, Some(&keep))?;
            Ok::<_, DbError>(Some((ended.len(), sessions_ending(conn, &ended)?)))
        })
        .await?;
    let Some((sessions_ended, ended_sessions)) = ended else {
        return Ok(ChangeOutcome::WrongPassword);
    };
    audit.record(
        AuditEvent::new("password_changed")
            .user(Some(&user.id))
            .ip(ip)
            .detail(serde_json::json!({ "sessions_ended": sessions_ended })),
    );
    Ok(ChangeOutcome::Changed { ended_sessions })
}
