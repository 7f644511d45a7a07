//! Changing the password from the account page: the current password is required (and a
//! wrong one counts towards the sign-in lockout, as at sign-in), the new one passes the
//! policy, and every other session of the account ends.

use shared::audit::{AuditEvent, AuditLog};
use shared::db::Db;
use shared::models::account_token::{AccountToken, Purpose};
use shared::models::login_throttle::LoginThrottle;
use shared::models::now;
use shared::models::session::Session;
use shared::models::user::User;

use super::AccountError;
use super::login::LoginPolicy;
use crate::domain::NewPassword;
use crate::password_hash::PasswordHashing;

#[derive(Debug)]
pub enum ChangeOutcome {
    /// Changed; these other sessions ended (their apps are told by the caller).
    Changed { ended_sessions: Vec<String> },
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
    db: &Db,
    hashing: &PasswordHashing,
    audit: &AuditLog,
    policy: LoginPolicy,
    change: PasswordChange<'_>,
    ip: Option<&str>,
) -> Result<ChangeOutcome, AccountError> {
    let user = change.user;
    let key = user.username.clone();
    let locked = db
        .run(move |conn| LoginThrottle::locked_until(conn, &key, now()))
        .await?;
    if locked.is_some() {
        audit.record(
            AuditEvent::new("password_change_refused_locked")
                .user(Some(&user.id))
                .ip(ip),
        );
        return Ok(ChangeOutcome::LockedOut);
    }
    if !hashing
        .verify(change.current, Some(user.password_hash.clone()))
        .await?
    {
        let key = user.username.clone();
        let outcome = db
            .run(move |conn| {
                LoginThrottle::record_failure(
                    conn,
                    &key,
                    now(),
                    policy.max_failures,
                    policy.lockout,
                    policy.lockout,
                )
            })
            .await?;
        audit.record(
            AuditEvent::new("password_change_refused")
                .user(Some(&user.id))
                .ip(ip),
        );
        return Ok(match outcome {
            shared::models::login_throttle::FailureOutcome::LockedNow { .. } => {
                ChangeOutcome::LockedOut
            }
            shared::models::login_throttle::FailureOutcome::Counted { .. } => {
                ChangeOutcome::WrongPassword
            }
        });
    }
    let new_hash = hashing.hash(change.new).await?;
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
            Session::delete_all_for_user(conn, &user_id, Some(&keep)).map(Some)
        })
        .await?;
    let Some(ended_sessions) = ended else {
        return Ok(ChangeOutcome::WrongPassword);
    };
    audit.record(
        AuditEvent::new("password_changed")
            .user(Some(&user.id))
            .ip(ip)
            .detail(serde_json::json!({ "sessions_ended": ended_sessions.len() })),
    );
    Ok(ChangeOutcome::Changed { ended_sessions })
}
