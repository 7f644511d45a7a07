//! Turning two-factor sign-in on and off from the account page. Enrolment shows a new
//! secret (QR code and text) until a first code from the app confirms it; only then does it
//! guard sign-in, and the ten recovery codes are shown, once. Renewing the codes and
//! turning the factor off need a current code or a recovery code (see [`super::second_step`]).

use serde_json::json;
use shared::audit::{AuditEvent, AuditLog};
use shared::db::{Db, DbError};
use shared::models::now;
use shared::models::recovery_code::RecoveryCode;
use shared::models::totp_factor::TotpFactor;

use super::recovery_codes::{self, PlainRecoveryCode};
use super::totp::{Code, TotpSecret};
use super::{open, qr, seal, unix_time};
use crate::accounts::AccountError;
use crate::oauth::keys::KeyEncryptionKey;

/// What the enrolment page shows. `Debug` shows nothing of the secret.
pub struct Enrolment {
    pub secret_for_typing: String,
    pub qr_svg: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(***)")
    }
}

/// Where the secrets of a user's factor are read and sealed, and what names the account in
/// the authenticator app.
#[derive(Debug, Clone, Copy)]
pub struct Enroller<'a> {
    pub db: &'a Db,
    pub kek: Option<&'a KeyEncryptionKey>,
    /// The issuer's host, shown in the app beside the account.
    pub issuer_label: &'a str,
}

impl Enroller<'_> {
    /// The enrolment in progress, started now if there is none (so reloading the page keeps
    /// the secret already scanned); `None` when two-factor sign-in is on already.
    pub async fn start(
        &self,
        user_id: &str,
        username: &str,
    ) -> Result<Option<Enrolment>, AccountError> {
        let id = user_id.to_owned();
        let existing = self.db.run(move |conn| TotpFactor::find(conn, &id)).await?;
        let secret = match existing {
            Some(factor) if factor.confirmed_at.is_some() => return Ok(None),
            Some(factor) => open(self.kek, &factor)?,
            None => {
                let secret = TotpSecret::generate();
                let factor = TotpFactor {
                    user_id: user_id.to_owned(),
                    secret: seal(self.kek, user_id, &secret)?,
                    created_at: now(),
                    confirmed_at: None,
                    last_used_step: 0,
                };
                let started = self
                    .db
                    .write(move |conn| TotpFactor::begin_enrolment(conn, &factor))
                    .await?;
                if !started {
                    return Ok(None);
                }
                secret
            }
        };
        let uri = secret
            .otpauth_uri(self.issuer_label, username)
            .ok_or(AccountError::SecondFactorUnreadable)?;
        let qr_svg = qr::svg(&uri).ok_or(AccountError::SecondFactorUnreadable)?;
        Ok(Some(Enrolment {
            secret_for_typing: secret.for_typing(),
            qr_svg,
        }))
    }

    /// Confirms the enrolment in progress with a first code: two-factor sign-in is on, and
    /// the recovery codes to show (once) are returned, all in one transaction with its audit
    /// row.
    pub async fn confirm(
        &self,
        user_id: &str,
        input: &str,
        ip: Option<&str>,
    ) -> Result<Confirmation, AccountError> {
        let id = user_id.to_owned();
        let Some(factor) = self.db.run(move |conn| TotpFactor::find(conn, &id)).await? else {
            return Ok(Confirmation::NotStarted);
        };
        if factor.confirmed_at.is_some() {
            return Ok(Confirmation::AlreadyOn);
        }
        let secret = open(self.kek, &factor)?;
        let Some(step) =
            Code::parse(input).and_then(|code| secret.matching_step(&code, unix_time()))
        else {
            return Ok(Confirmation::WrongCode);
        };
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        let at = now();
        let (shown, rows) = recovery_codes::generate(user_id, at);
        let (id, ip) = (user_id.to_owned(), ip.map(str::to_owned));
        let confirmed = self
            .db
            .write(move |conn| {
                if !TotpFactor::confirm(conn, &id, at)?
                    || !TotpFactor::accept_step(conn, &id, step)?
                {
                    return Ok(false);
                }
                RecoveryCode::replace_all(conn, &id, &rows)?;
                AuditLog::record_in(
                    conn,
                    AuditEvent::new("mfa_enabled")
                        .user(Some(&id))
                        .ip(ip.as_deref())
                        .detail(json!({ "method": "totp" })),
                )?;
                Ok::<_, DbError>(true)
            })
            .await?;
        Ok(if confirmed {
            Confirmation::Enabled(shown)
        } else {
            Confirmation::AlreadyOn
        })
    }
}

#[derive(Debug)]
pub enum Confirmation {
    /// On; the recovery codes, to show once.
    Enabled(Vec<PlainRecoveryCode>),
    WrongCode,
    /// No enrolment was started (or it was replaced).
    NotStarted,
    /// Two-factor sign-in was on already (a second tab confirmed first).
    AlreadyOn,
}

/// New recovery codes for the user, replacing every old one (used or not).
pub async fn renew_recovery_codes(
    db: &Db,
    audit: &AuditLog,
    user_id: &str,
    ip: Option<&str>,
) -> Result<Vec<PlainRecoveryCode>, AccountError> {
    let (shown, rows) = recovery_codes::generate(user_id, now());
    let id = user_id.to_owned();
    db.write(move |conn| RecoveryCode::replace_all(conn, &id, &rows))
        .await?;
    audit.record(
        AuditEvent::new("recovery_codes_renewed")
            .user(Some(user_id))
            .ip(ip),
    );
    Ok(shown)
}

/// Turns two-factor sign-in off: the factor and every recovery code go, with the audit row
/// in the same transaction. `false` when it was off already.
pub async fn turn_off(
    db: &Db,
    user_id: &str,
    by: &'static str,
    ip: Option<&str>,
) -> Result<bool, AccountError> {
    let (id, ip) = (user_id.to_owned(), ip.map(str::to_owned));
    Ok(db
        .write(move |conn| {
            let was_on = TotpFactor::is_enabled(conn, &id)?;
            TotpFactor::delete(conn, &id)?;
            RecoveryCode::delete_all(conn, &id)?;
            if was_on {
                AuditLog::record_in(
                    conn,
                    AuditEvent::new("mfa_disabled")
                        .user(Some(&id))
                        .ip(ip.as_deref())
                        .detail(json!({ "by": by })),
                )?;
            }
            Ok::<_, DbError>(was_on)
        })
        .await?)
}
