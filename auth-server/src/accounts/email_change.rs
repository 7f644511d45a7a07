//! Changing the email address from the account page, password required: the new address
//! starts unproven (a verification link goes to it, and every link for the old one dies)
//! and the old address is told, so a person whose account was taken over learns of it.

use shared::audit::AuditEvent;
use shared::db::{Db, DbError};
use shared::models::account_token::{AccountToken, Purpose};
use shared::models::now;
use shared::models::user::User;

use super::AccountError;
use super::email_verification;
use super::reauthentication::{Action, Checker, Verdict};
use crate::domain::EmailAddress;
use crate::mail::{Mail, Mailer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOutcome {
    Changed,
    /// The address is another account's (or no change at all).
    Unavailable,
    WrongPassword,
    LockedOut,
}

/// Where the new address's link and the old address's notice go.
#[derive(Debug, Clone, Copy)]
pub struct Notify<'a> {
    pub mailer: &'a Mailer,
    pub issuer: &'a str,
}

pub async fn change(
    checker: Checker<'_>,
    notify: Notify<'_>,
    user: &User,
    new_email: EmailAddress,
    password: String,
    ip: Option<&str>,
) -> Result<ChangeOutcome, AccountError> {
    if new_email.as_str() == user.email {
        return Ok(ChangeOutcome::Unavailable);
    }
    match checker
        .confirm(user, password, Action::ChangeEmail, ip)
        .await?
    {
        Verdict::Confirmed => {}
        Verdict::WrongPassword => return Ok(ChangeOutcome::WrongPassword),
        Verdict::LockedOut => return Ok(ChangeOutcome::LockedOut),
    }
    let (id, email) = (user.id.clone(), new_email.as_str().to_owned());
    let changed = set_email(checker.db, id, email).await;
    let updated = match changed {
        Ok(Some(updated)) => updated,
        Ok(None) => return Err(AccountError::AccountVanished),
        Err(error) if error.is_unique_violation() => return Ok(ChangeOutcome::Unavailable),
        Err(error) => return Err(error.into()),
    };
    checker
        .audit
        .record(AuditEvent::new("email_changed").user(Some(&user.id)).ip(ip));
    notify.mailer.send(
        &user.email,
        &Mail::EmailChanged {
            username: user.username.clone(),
            new_email: updated.email.clone(),
        },
    );
    email_verification::send(checker.db, notify.mailer, notify.issuer, &updated).await?;
    Ok(ChangeOutcome::Changed)
}

/// Stores the address and retires the links for the old one; the account as it is now.
async fn set_email(db: &Db, id: String, email: String) -> Result<Option<User>, DbError> {
    db.write(move |conn| {
        let at = now();
        if !User::set_email(conn, &id, &email, at)? {
            return Ok(None);
        }
        AccountToken::retire_all(conn, &id, Purpose::VerifyEmail, at)?;
        User::find(conn, &id)
    })
    .await
}
