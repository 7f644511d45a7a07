//! "Forgot password?" (SECURITY.md 32): the form names an account by username or email
//! and always gets the same answer after the same work — one lookup — whether or not the
//! account exists; the link (if any) is stored and mailed off the request path. The link
//! carries a 256-bit single-use token, valid 30 minutes, bound to the password it was
//! issued against. Using it sets the new password and, in the same transaction, ends
//! every session, burns every code and revokes every grant of the account: apps must be
//! connected again.

use serde_json::json;
use shared::audit::{AuditEvent, AuditLog};
use shared::db::{Db, DbError};
use shared::models::account_token::{AccountToken, Purpose};
use shared::models::authorization_code::AuthorizationCode;
use shared::models::grant::Grant;
use shared::models::login_throttle::LoginThrottle;
use shared::models::now;
use shared::models::session::Session;
use shared::models::user::User;

use super::AccountError;
use super::mail_links::{
    self, Binding, RESET_PASSWORD_PATH, RESET_PASSWORD_VALIDITY, password_fingerprint,
};
use crate::domain::{NewPassword, username};
use crate::mail::{Mail, Mailer};
use crate::oidc::logout::{EndedSession, sessions_ending};
use crate::password_hash::PasswordHashing;

/// Reset messages one account may be sent within an hour; more requests are answered the
/// same but send nothing.
pub const MAX_PER_HOUR: i64 = 3;
/// The longest input looked up (an email address is at most 254 characters).
const MAX_LOGIN_LEN: usize = 254;

/// Where the mail and the audit record of a request go.
#[derive(Debug, Clone)]
pub struct Outbox {
    pub db: Db,
    pub mailer: Mailer,
    pub audit: AuditLog,
    pub issuer: String,
}

/// Handles the form: looks the account up and, when there is one, issues and mails the
/// link in the background. Answers the same either way.
pub async fn request(outbox: &Outbox, login: &str, ip: Option<&str>) -> Result<(), AccountError> {
    let key: String = username::normalize(login)
        .chars()
        .take(MAX_LOGIN_LEN)
        .collect();
    let user = outbox
        .db
        .run(move |conn| User::find_by_username_or_email(conn, &key))
        .await?;
    if let Some(user) = user {
        let outbox = outbox.clone();
        let ip = ip.map(str::to_owned);
        tokio::spawn(async move {
            if let Err(error) = issue_and_mail(&outbox, user, ip.as_deref()).await {
                tracing::warn!(error = %error, "password reset link not sent");
            }
        });
    }
    Ok(())
}

async fn issue_and_mail(outbox: &Outbox, user: User, ip: Option<&str>) -> Result<(), AccountError> {
    let (user_id, password_hash) = (user.id.clone(), user.password_hash.clone());
    let token = outbox
        .db
        .write(move |conn| {
            let an_hour_ago = now() - chrono::Duration::hours(1);
            if AccountToken::count_since(conn, &user_id, Purpose::ResetPassword, an_hour_ago)?
                >= MAX_PER_HOUR
            {
                return Ok(None);
            }
            mail_links::issue(conn, &user_id, Binding::PasswordHash(&password_hash)).map(Some)
        })
        .await?;
    let Some(token) = token else {
        tracing::info!(target: "security", event = "password_reset_limited", user_id = %user.id);
        return Ok(());
    };
    outbox.mailer.send(
        &user.email,
        &Mail::ResetPassword {
            username: user.username.clone(),
            link: mail_links::link(&outbox.issuer, RESET_PASSWORD_PATH, &token),
            valid_minutes: RESET_PASSWORD_VALIDITY.num_minutes(),
        },
    );
    outbox.audit.record(
        AuditEvent::new("password_reset_requested")
            .user(Some(&user.id))
            .ip(ip),
    );
    Ok(())
}

/// The live link's row and its account, if the link still works: unused, unexpired, and
/// issued against the account's current password.
fn live_link(
    conn: &mut shared::db::DbConnection,
    token_hash: &str,
) -> Result<Option<User>, DbError> {
    let Some(link) = AccountToken::find_live(conn, token_hash, Purpose::ResetPassword, now())?
    else {
        return Ok(None);
    };
    let user = User::find(conn, &link.user_id)?;
    Ok(user.filter(|user| {
        link.password_fingerprint.as_deref() == Some(&password_fingerprint(&user.password_hash))
    }))
}

/// The account a live reset link is for (the new-password form is shown only then).
pub async fn account_for(db: &Db, token: &str) -> Result<Option<User>, AccountError> {
    let Some(hash) = mail_links::lookup_hash(Purpose::ResetPassword, token) else {
        return Ok(None);
    };
    Ok(db.run(move |conn| live_link(conn, hash.as_str())).await?)
}

/// A password set through a reset link.
#[derive(Debug)]
pub struct Reset {
    pub user: User,
    /// The apps of the sessions it ended, to be told (back-channel logout).
    pub ended_sessions: Vec<EndedSession>,
}

/// Uses the link: `None` when it no longer works (used meanwhile, expired, or the
/// password changed). The new password is hashed before the transaction, which checks
/// the link again.
pub async fn reset(
    db: &Db,
    hashing: &PasswordHashing,
    audit: &AuditLog,
    token: &str,
    password: NewPassword,
    ip: Option<&str>,
) -> Result<Option<Reset>, AccountError> {
    let Some(hash) = mail_links::lookup_hash(Purpose::ResetPassword, token) else {
        return Ok(None);
    };
    let new_hash = hashing.hash(password).await?;
    let outcome = db
        .write(move |conn| {
            let Some(user) = live_link(conn, hash.as_str())? else {
                return Ok(None);
            };
            let at = now();
            if !AccountToken::claim(conn, hash.as_str(), at)? {
                return Ok(None);
            }
            AccountToken::retire_all(conn, &user.id, Purpose::ResetPassword, at)?;
            User::set_password_hash(conn, &user.id, &new_hash, at)?;
            let ended = Session::delete_all_for_user(conn, &user.id, None)?;
            let ended_sessions = sessions_ending(conn, &ended)?;
            let codes = AuthorizationCode::delete_unused_of_user(conn, &user.id)?;
            let grants = Grant::live_of_user(conn, &user.id)?;
            for grant_id in &grants {
                Grant::revoke_family(conn, grant_id, at)?;
            }
            // Whoever reads the mailbox is the owner: the lockout on the name ends too.
            LoginThrottle::clear(conn, &user.username)?;
            Ok::<_, DbError>(Some((
                user,
                ended.len(),
                ended_sessions,
                codes,
                grants.len(),
            )))
        })
        .await?;
    let Some((user, sessions_ended, ended_sessions, codes, grants)) = outcome else {
        return Ok(None);
    };
    audit.record(
        AuditEvent::new("password_reset")
            .user(Some(&user.id))
            .ip(ip)
            .detail(json!({
                "sessions_ended": sessions_ended,
                "grants_revoked": grants,
                "codes_burned": codes,
            })),
    );
    Ok(Some(Reset {
        user,
        ended_sessions,
    }))
}
