//! Signing in (SECURITY.md 24). An unknown username and a wrong password get the same
//! answer after the same work (a dummy hash is verified); failures are counted per
//! username as typed, and reaching the limit locks that username for a while, whether or
//! not the account exists, so the lockout message reveals nothing either. An account with
//! two-factor sign-in goes on to its code ([`super::two_factor::second_step`]).

use serde_json::json;
use shared::audit::{AuditEvent, AuditLog};
use shared::config::LoginSettings;
use shared::db::{Db, DbError};
use shared::models::login_throttle::{FailureOutcome, LoginThrottle};
use shared::models::now;
use shared::models::totp_factor::TotpFactor;
use shared::models::user::User;

use super::AccountError;
use crate::domain::username;
use crate::password_hash::PasswordHashing;

/// Longest username input used as a throttle key; longer input cannot be a username.
const MAX_KEY_LEN: usize = 64;

#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    pub max_failures: u32,
    pub lockout: chrono::Duration,
}

impl LoginPolicy {
    pub fn from_settings(settings: &LoginSettings) -> Self {
        Self {
            max_failures: settings.max_failures,
            lockout: chrono::Duration::from_std(settings.lockout).unwrap_or(chrono::Duration::MAX),
        }
    }

    /// Counts a wrong password for the name `key` (the lockout window is the lockout's
    /// length); says whether it locked the name now.
    pub async fn count_failure(self, db: &Db, key: String) -> Result<FailureOutcome, DbError> {
        db.run(move |conn| {
            LoginThrottle::record_failure(
                conn,
                &key,
                now(),
                self.max_failures,
                self.lockout,
                self.lockout,
            )
        })
        .await
    }

    pub fn lockout_minutes(&self) -> i64 {
        (self.lockout.num_seconds() + 59) / 60
    }
}

#[derive(Debug)]
pub enum LoginOutcome {
    SignedIn(Box<User>),
    /// The password was right and the account has two-factor sign-in: the code comes next
    /// (the failure count is cleared only once it is right).
    SecondFactorNeeded(Box<User>),
    /// Unknown username or wrong password: the two are never told apart.
    Refused,
    /// Too many recent failures for this username.
    LockedOut,
}

/// Fails with [`AccountError::PasswordHashingBusy`] before anything is counted or recorded
/// when the hashing queue is full: no password was checked.
pub async fn authenticate(
    db: &Db,
    audit: &AuditLog,
    hashing: &PasswordHashing,
    policy: LoginPolicy,
    username_input: &str,
    password: String,
    ip: Option<&str>,
) -> Result<LoginOutcome, AccountError> {
    let key: String = username::normalize(username_input)
        .chars()
        .take(MAX_KEY_LEN)
        .collect();

    let lookup_key = key.clone();
    let (locked_until, user, has_second_factor) = db
        .run(move |conn| {
            let locked = LoginThrottle::locked_until(conn, &lookup_key, now())?;
            let user = User::find_by_username(conn, &lookup_key)?;
            let has_second_factor = match &user {
                Some(user) => TotpFactor::is_enabled(conn, &user.id)?,
                None => false,
            };
            Ok::<_, DbError>((locked, user, has_second_factor))
        })
        .await?;

    // The same argon2 work on every path, so timing reveals neither the account nor the lock.
    let stored_hash = user
        .as_ref()
        .filter(|_| locked_until.is_none())
        .map(|u| u.password_hash.clone());
    let verified = hashing.verify(password, stored_hash).await?;

    let user_id = user.as_ref().map(|u| u.id.clone());
    if locked_until.is_some() {
        audit.record(
            AuditEvent::new("login_refused_locked")
                .user(user_id.as_deref())
                .ip(ip),
        );
        return Ok(LoginOutcome::LockedOut);
    }
    if verified && let Some(user) = user {
        if has_second_factor {
            audit.record(
                AuditEvent::new("login_second_factor_asked")
                    .user(Some(&user.id))
                    .ip(ip),
            );
            return Ok(LoginOutcome::SecondFactorNeeded(Box::new(user)));
        }
        db.run(move |conn| LoginThrottle::clear(conn, &key)).await?;
        audit.record(AuditEvent::new("login_success").user(Some(&user.id)).ip(ip));
        return Ok(LoginOutcome::SignedIn(Box::new(user)));
    }

    let outcome = policy.count_failure(db, key).await?;
    // The typed username is kept only when it names an account (a mistyped password
    // can land in the username field).
    audit.record(
        AuditEvent::new("login_failure")
            .user(user_id.as_deref())
            .ip(ip)
            .detail(json!({ "known_user": user_id.is_some() })),
    );
    match outcome {
        FailureOutcome::Counted { .. } => Ok(LoginOutcome::Refused),
        FailureOutcome::LockedNow { until } => {
            audit.record(
                AuditEvent::new("lockout")
                    .user(user_id.as_deref())
                    .ip(ip)
                    .detail(json!({ "until": until.and_utc().to_rfc3339() })),
            );
            Ok(LoginOutcome::LockedOut)
        }
    }
}
