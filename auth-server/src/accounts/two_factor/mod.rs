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
use shared::models::login_throttle::{FailureOutcome, LoginThrottle};
use shared::models::now;
use shared::models::recovery_code::RecoveryCode;
use shared::models::totp_factor::TotpFactor;
use shared::models::user::User;

use self::totp::{Code, TotpSecret};
use super::AccountError;
use super::login::LoginPolicy;
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

/// What one attempt did, decided in one transaction per user (see [`attempt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The account's name was locked: nothing was checked.
    Locked,
    Passed(Proof),
    /// Wrong or reused, and counted towards the lockout.
    Failed {
        reused: bool,
        outcome: FailureOutcome,
    },
}

/// Checks `input` (a current code or an unused recovery code) against `user`'s confirmed
/// factor, spending it when right; a wrong or reused one is counted towards the lockout
/// of the account's name (`clear_on_success`: a right one clears the count, as a
/// completed sign-in does). The lock check, the code and the count are one write
/// transaction that first locks the user's factor row, so parallel guesses are decided
/// one after the other and none slips past a lock another just set.
pub async fn attempt(
    db: &Db,
    kek: Option<&KeyEncryptionKey>,
    policy: LoginPolicy,
    user: &User,
    input: &str,
    clear_on_success: bool,
) -> Result<Attempt, AccountError> {
    let id = user.id.clone();
    let factor = db
        .run(move |conn| TotpFactor::find_confirmed(conn, &id))
        .await?;
    // The secret is opened and the code computed outside the transaction (no crypto while
    // holding the lock); what the transaction decides is whether that step is still unused.
    let totp_step = match (&factor, Code::parse(input)) {
        (Some(factor), Some(code)) => Some(
            open(kek, factor)?
                .matching_step(&code, unix_time())
                .map(|step| i64::try_from(step).unwrap_or(i64::MAX)),
        ),
        (None, Some(_)) => Some(None),
        (_, None) => None,
    };
    let recovery_hash = match totp_step {
        Some(_) => None,
        None => recovery_codes::hash_of_input(&user.id, input),
    };
    let (id, key, has_factor) = (user.id.clone(), user.username.clone(), factor.is_some());
    Ok(db
        .write(move |conn| {
            let at = now();
            // Serialises this user's attempts (a row lock on PostgreSQL; SQLite has one writer).
            TotpFactor::lock(conn, &id)?;
            if LoginThrottle::locked_until(conn, &key, at)?.is_some() {
                return Ok(Attempt::Locked);
            }
            let check = match (totp_step, recovery_hash) {
                (Some(Some(step)), _) if has_factor => {
                    if TotpFactor::accept_step(conn, &id, step)? {
                        CodeCheck::Accepted(Proof::Totp)
                    } else {
                        CodeCheck::Reused
                    }
                }
                (None, Some(hash)) if has_factor => {
                    if RecoveryCode::spend(conn, &id, hash.as_str(), at)? {
                        let remaining = RecoveryCode::count_unused(conn, &id)?;
                        CodeCheck::Accepted(Proof::RecoveryCode { remaining })
                    } else if RecoveryCode::exists(conn, &id, hash.as_str())? {
                        CodeCheck::Reused
                    } else {
                        CodeCheck::Wrong
                    }
                }
                _ => CodeCheck::Wrong,
            };
            if let CodeCheck::Accepted(proof) = check {
                if clear_on_success {
                    LoginThrottle::clear(conn, &key)?;
                }
                return Ok(Attempt::Passed(proof));
            }
            let outcome = LoginThrottle::record_failure(
                conn,
                &key,
                at,
                policy.max_failures,
                policy.lockout,
                policy.lockout,
            )?;
            Ok::<_, DbError>(Attempt::Failed {
                reused: check == CodeCheck::Reused,
                outcome,
            })
        })
        .await?)
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
