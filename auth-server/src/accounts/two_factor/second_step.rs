//! The second step of signing in, and the same question later: a current code (or a
//! recovery code) after the right password, before a session starts; for a session that
//! rests on the password alone when an app requires the second factor (step-up); and
//! before the factor is turned off or its recovery codes renewed.
//!
//! A wrong or reused code counts towards the sign-in lockout of the account's name, as a
//! wrong password does (SECURITY.md 24), and a locked name is refused before any code is
//! checked, in one transaction per attempt; the right password alone never clears the
//! count while a code is owed.
//! Between the steps the browser holds a single-use `mfa_` token in the form (five
//! minutes, dead if the password changes meanwhile), never a session.

use serde_json::json;
use shared::audit::{AuditEvent, AuditLog};
use shared::db::{Db, DbError};
use shared::models::account_token::{AccountToken, Purpose};
use shared::models::login_throttle::FailureOutcome;
use shared::models::now;
use shared::models::user::User;
use shared::token::PlainToken;

use super::{Attempt, Proof, attempt};
use crate::accounts::AccountError;
use crate::accounts::login::LoginPolicy;
use crate::accounts::mail_links::{self, Binding, password_fingerprint};
use crate::oauth::keys::KeyEncryptionKey;

/// Why the code is asked, for the audit rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    SignIn,
    StepUp,
    TurnOff,
    RenewRecoveryCodes,
}

impl Occasion {
    fn as_str(self) -> &'static str {
        match self {
            Occasion::SignIn => "sign_in",
            Occasion::StepUp => "step_up",
            Occasion::TurnOff => "turn_off",
            Occasion::RenewRecoveryCodes => "renew_recovery_codes",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    Passed(Proof),
    /// Wrong, or reused: the two get the same answer.
    Refused,
    /// Too many failures: the account's name is locked for a while.
    LockedOut,
}

/// Where a code check reads and records.
#[derive(Debug, Clone, Copy)]
pub struct Guard<'a> {
    pub db: &'a Db,
    pub audit: &'a AuditLog,
    pub kek: Option<&'a KeyEncryptionKey>,
    pub policy: LoginPolicy,
}

impl Guard<'_> {
    /// Checks `input` for `user` on `occasion`, with the lockout (see [`attempt`]).
    pub async fn verify(
        &self,
        user: &User,
        input: &str,
        occasion: Occasion,
        ip: Option<&str>,
    ) -> Result<StepOutcome, AccountError> {
        let clear_on_success = occasion == Occasion::SignIn;
        let result = attempt(
            self.db,
            self.kek,
            self.policy,
            user,
            input,
            clear_on_success,
        )
        .await?;
        let event = |kind: &'static str| AuditEvent::new(kind).user(Some(&user.id)).ip(ip);
        match result {
            Attempt::Locked => {
                self.audit.record(
                    event("second_factor_refused_locked")
                        .detail(json!({ "occasion": occasion.as_str() })),
                );
                Ok(StepOutcome::LockedOut)
            }
            Attempt::Failed { reused, outcome } => {
                self.audit
                    .record(event("second_factor_failure").detail(json!({
                        "occasion": occasion.as_str(),
                        "reused": reused,
                    })));
                Ok(match outcome {
                    FailureOutcome::Counted { .. } => StepOutcome::Refused,
                    FailureOutcome::LockedNow { until } => {
                        self.audit.record(
                            event("lockout")
                                .detail(json!({ "until": until.and_utc().to_rfc3339() })),
                        );
                        StepOutcome::LockedOut
                    }
                })
            }
            Attempt::Passed(proof) => {
                if let Proof::RecoveryCode { remaining } = proof {
                    self.audit.record(event("recovery_code_used").detail(json!({
                        "occasion": occasion.as_str(),
                        "remaining": remaining,
                    })));
                }
                Ok(StepOutcome::Passed(proof))
            }
        }
    }
}

/// Holds a sign-in whose password was right until its code comes: the token for the form.
pub async fn hold(db: &Db, user: &User) -> Result<PlainToken, AccountError> {
    let (id, hash) = (user.id.clone(), user.password_hash.clone());
    Ok(db
        .write(move |conn| mail_links::issue(conn, &id, Binding::SecondFactorAfter(&hash)))
        .await?)
}

/// The user of a held sign-in, while it is live (unused, under five minutes, and the
/// password unchanged).
pub async fn held_user(db: &Db, token: &str) -> Result<Option<User>, AccountError> {
    let Some(hash) = mail_links::lookup_hash(Purpose::SecondFactor, token) else {
        return Ok(None);
    };
    Ok(db
        .run(move |conn| {
            let Some(held) =
                AccountToken::find_live(conn, hash.as_str(), Purpose::SecondFactor, now())?
            else {
                return Ok(None);
            };
            let user = User::find(conn, &held.user_id)?.filter(|user| {
                held.password_fingerprint.as_deref()
                    == Some(password_fingerprint(&user.password_hash).as_str())
            });
            Ok::<_, DbError>(user)
        })
        .await?)
}

/// Spends a held sign-in once its code was right; `false` if a racing request spent it.
pub async fn release(db: &Db, token: &str) -> Result<bool, AccountError> {
    let Some(hash) = mail_links::lookup_hash(Purpose::SecondFactor, token) else {
        return Ok(false);
    };
    Ok(db
        .write(move |conn| AccountToken::claim(conn, hash.as_str(), now()))
        .await?)
}
