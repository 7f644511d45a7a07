//! TOTP two-factor sign-in (RFC 6238; SECURITY.md 33): enrolling an authenticator app,
//! checking its codes (each accepted once) or a recovery code in their place, and turning
//! it off. The shared secret is sealed under `KEY_ENCRYPTION_KEY`, bound to its user.
//!
//! - [`totp`]: the codes, the secret, the key URI.
//! - [`recovery_codes`]: ten single-use codes, stored hashed.
//! - [`qr`]: the enrolment QR code as inline SVG.
//! - [`enrolment`]: turning it on (a first code confirms), renewing codes, turning it off.
//! - [`second_step`]: the code asked after the password, or later for an app that needs it,
//!   with the sign-in lockout.

pub mod enrolment;
pub mod qr;
pub mod recovery_codes;
pub mod second_step;
pub mod totp;

use shared::db::{Db, DbError};
use shared::models::now;
use shared::models::recovery_code::RecoveryCode;
use shared::models::totp_factor::TotpFactor;

use self::totp::{Code, TotpSecret};
use super::AccountError;
use crate::oauth::keys::{KeyEncryptionKey, plain_secret, read_plain_secret};

/// What sealing binds a user's TOTP secret to (never a signing key's `kid`, which is base64url).
fn sealing_context(user_id: &str) -> Vec<u8> {
    format!("totp:{user_id}").into_bytes()
}

/// The secret as stored: sealed when `KEY_ENCRYPTION_KEY` is set, plain in development.
fn seal(
    kek: Option<&KeyEncryptionKey>,
    user_id: &str,
    secret: &TotpSecret,
) -> Result<String, AccountError> {
    match kek {
        Some(kek) => kek
            .seal(secret.as_bytes(), &sealing_context(user_id))
            .map_err(|_| AccountError::SecondFactorUnreadable),
        None => Ok(plain_secret(secret.as_bytes())),
    }
}

/// The secret of a stored factor. Fails when it was sealed under another key (the
/// operator changed `KEY_ENCRYPTION_KEY`: `users disable-mfa` lets the person enrol again).
fn open(kek: Option<&KeyEncryptionKey>, factor: &TotpFactor) -> Result<TotpSecret, AccountError> {
    let bytes = match read_plain_secret(&factor.secret) {
        Some(bytes) => Some(bytes),
        None => kek.and_then(|kek| kek.open(&factor.secret, &sealing_context(&factor.user_id))),
    };
    bytes.map(TotpSecret::from_bytes).ok_or_else(|| {
        tracing::error!(target: "security", event = "totp_secret_unreadable", user_id = %factor.user_id);
        AccountError::SecondFactorUnreadable
    })
}

fn unix_time() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

/// How a second factor was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    Totp,
    /// A recovery code, now spent; `remaining` are left.
    RecoveryCode {
        remaining: i64,
    },
}

/// What a code typed by a person turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted(Proof),
    /// A right code for a time step already used (RFC 6238 §5.2), or a spent recovery code.
    Reused,
    Wrong,
}

/// Checks `input` (a current code or an unused recovery code) against the user's confirmed
/// factor, spending it when right. A user without one has nothing to check: `Wrong`.
pub async fn check_code(
    db: &Db,
    kek: Option<&KeyEncryptionKey>,
    user_id: &str,
    input: &str,
) -> Result<CodeCheck, AccountError> {
    if let Some(code) = Code::parse(input) {
        let id = user_id.to_owned();
        let Some(factor) = db
            .run(move |conn| TotpFactor::find_confirmed(conn, &id))
            .await?
        else {
            return Ok(CodeCheck::Wrong);
        };
        let secret = open(kek, &factor)?;
        let Some(step) = secret.matching_step(&code, unix_time()) else {
            return Ok(CodeCheck::Wrong);
        };
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        let id = user_id.to_owned();
        let fresh = db
            .write(move |conn| TotpFactor::accept_step(conn, &id, step))
            .await?;
        return Ok(if fresh {
            CodeCheck::Accepted(Proof::Totp)
        } else {
            CodeCheck::Reused
        });
    }
    let Some(code_hash) = recovery_codes::hash_of_input(input) else {
        return Ok(CodeCheck::Wrong);
    };
    let id = user_id.to_owned();
    let outcome = db
        .write(move |conn| {
            if !TotpFactor::is_enabled(conn, &id)? {
                return Ok(CodeCheck::Wrong);
            }
            if !RecoveryCode::spend(conn, &id, code_hash.as_str(), now())? {
                let known = RecoveryCode::exists(conn, &id, code_hash.as_str())?;
                return Ok(if known {
                    CodeCheck::Reused
                } else {
                    CodeCheck::Wrong
                });
            }
            let remaining = RecoveryCode::count_unused(conn, &id)?;
            Ok::<_, DbError>(CodeCheck::Accepted(Proof::RecoveryCode { remaining }))
        })
        .await?;
    Ok(outcome)
}

/// Whether the user signs in with a second factor.
pub async fn is_enabled(db: &Db, user_id: &str) -> Result<bool, AccountError> {
    let id = user_id.to_owned();
    Ok(db
        .run(move |conn| TotpFactor::is_enabled(conn, &id))
        .await?)
}

#[cfg(test)]
mod tests {
    use shared::config::SecretString;

    use super::*;

    fn factor(user_id: &str, secret: String) -> TotpFactor {
        TotpFactor {
            user_id: user_id.into(),
            secret,
            created_at: now(),
            confirmed_at: None,
            last_used_step: 0,
        }
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_user_under_its_key() {
        let kek = KeyEncryptionKey::from_secret(&SecretString::new("k".repeat(32)));
        let other_kek = KeyEncryptionKey::from_secret(&SecretString::new("o".repeat(32)));
        let secret = TotpSecret::generate();
        let sealed = seal(Some(&kek), "alice", &secret).unwrap();
        assert!(sealed.starts_with("v1:"));
        let opened = open(Some(&kek), &factor("alice", sealed.clone())).unwrap();
        assert_eq!(opened.as_bytes(), secret.as_bytes());
        assert!(open(Some(&kek), &factor("mallory", sealed.clone())).is_err());
        assert!(open(Some(&other_kek), &factor("alice", sealed.clone())).is_err());
        assert!(open(None, &factor("alice", sealed)).is_err());
    }

    #[test]
    fn without_a_key_the_secret_is_stored_plain_and_read_back() {
        let secret = TotpSecret::generate();
        let stored = seal(None, "alice", &secret).unwrap();
        assert!(stored.starts_with("plain:"));
        assert_eq!(
            open(None, &factor("alice", stored)).unwrap().as_bytes(),
            secret.as_bytes()
        );
        assert!(format!("{secret:?}").contains("***"));
    }
}
