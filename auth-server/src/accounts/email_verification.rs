//! Proving an email address: a link mailed to it at sign-up (and on request from the
//! account page, at most a few an hour), valid for 24 hours, used once, and dead when the
//! account's address changes before it is used.

use shared::audit::{AuditEvent, AuditLog};
use shared::db::{Db, DbError};
use shared::models::account_token::{AccountToken, Purpose};
use shared::models::now;
use shared::models::user::User;

use super::AccountError;
use super::mail_links::{self, Binding, VERIFY_EMAIL_PATH, VERIFY_EMAIL_VALIDITY};
use crate::mail::{Mail, Mailer};

/// Verification messages a person may have sent within an hour.
pub const MAX_PER_HOUR: i64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendOutcome {
    Sent,
    AlreadyVerified,
    /// [`MAX_PER_HOUR`] were sent already.
    TooMany,
}

/// Stores a new link for the user's current address and mails it.
pub async fn send(db: &Db, mailer: &Mailer, issuer: &str, user: &User) -> Result<(), AccountError> {
    let (user_id, email) = (user.id.clone(), user.email.clone());
    let token = db
        .write(move |conn| mail_links::issue(conn, &user_id, Binding::Email(&email)))
        .await?;
    mailer.send(
        &user.email,
        &Mail::VerifyEmail {
            username: user.username.clone(),
            email: user.email.clone(),
            link: mail_links::link(issuer, VERIFY_EMAIL_PATH, &token),
            valid_hours: VERIFY_EMAIL_VALIDITY.num_hours(),
        },
    );
    tracing::info!(target: "security", event = "email_verification_sent", user_id = %user.id);
    Ok(())
}

/// "Send the link again", from the account page.
pub async fn resend(
    db: &Db,
    mailer: &Mailer,
    issuer: &str,
    user: &User,
) -> Result<ResendOutcome, AccountError> {
    if user.email_verified_at.is_some() {
        return Ok(ResendOutcome::AlreadyVerified);
    }
    let user_id = user.id.clone();
    let recent = db
        .run(move |conn| {
            let an_hour_ago = now() - chrono::Duration::hours(1);
            AccountToken::count_since(conn, &user_id, Purpose::VerifyEmail, an_hour_ago)
        })
        .await?;
    if recent >= MAX_PER_HOUR {
        return Ok(ResendOutcome::TooMany);
    }
    send(db, mailer, issuer, user).await?;
    Ok(ResendOutcome::Sent)
}

/// Whether `token` is a live verification link (the page that confirms it is shown only
/// then), without using it.
pub async fn is_live(db: &Db, token: &str) -> Result<bool, AccountError> {
    let Some(hash) = mail_links::lookup_hash(Purpose::VerifyEmail, token) else {
        return Ok(false);
    };
    Ok(db
        .run(move |conn| AccountToken::find_live(conn, hash.as_str(), Purpose::VerifyEmail, now()))
        .await?
        .is_some())
}

/// Uses the link: the address it names is marked verified if it is still the account's.
/// `false` for an unknown, used, expired or outdated link.
pub async fn confirm(db: &Db, audit: &AuditLog, token: &str) -> Result<bool, AccountError> {
    let Some(hash) = mail_links::lookup_hash(Purpose::VerifyEmail, token) else {
        return Ok(false);
    };
    let verified = db
        .write(move |conn| {
            let at = now();
            let Some(link) =
                AccountToken::find_live(conn, hash.as_str(), Purpose::VerifyEmail, at)?
            else {
                return Ok(None);
            };
            let email = link.email.as_deref().unwrap_or_default();
            if !AccountToken::claim(conn, hash.as_str(), at)?
                || !User::mark_email_verified(conn, &link.user_id, email, at)?
            {
                return Ok(None);
            }
            AccountToken::retire_all(conn, &link.user_id, Purpose::VerifyEmail, at)?;
            Ok::<_, DbError>(Some(link.user_id))
        })
        .await?;
    if let Some(user_id) = &verified {
        audit.record(AuditEvent::new("email_verified").user(Some(user_id)));
    }
    Ok(verified.is_some())
}
