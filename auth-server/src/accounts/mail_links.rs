//! The single-use links accounts send by mail: a 256-bit random token behind a prefix
//! that says what it is for (`ev_` verifies an email address, `pr_` resets a password),
//! stored as its SHA-256 only, used once, and short-lived (SECURITY.md 31). A sign-in
//! waiting for its second factor holds a token of the same kind (`mfa_`), in its form
//! rather than in a mail.

use chrono::Duration;
use shared::db::{DbConnection, DbError};
use shared::models::account_token::{AccountToken, Purpose};
use shared::models::now;
use shared::token::{HashedToken, PlainToken};

/// How long a verification link works.
pub const VERIFY_EMAIL_VALIDITY: Duration = Duration::hours(24);
/// How long a password-reset link works.
pub const RESET_PASSWORD_VALIDITY: Duration = Duration::minutes(30);
/// How long the second-factor step of a sign-in waits after the right password.
pub const SECOND_FACTOR_VALIDITY: Duration = Duration::minutes(5);
/// The longest token a link can carry (prefix + 43 base64url characters); longer input is
/// no token of ours and is not looked up.
const MAX_TOKEN_LEN: usize = 64;

/// The public paths the links open.
pub const VERIFY_EMAIL_PATH: &str = "/verify-email";
pub const RESET_PASSWORD_PATH: &str = "/reset-password";
/// Where a notice sends a person who did not make the change.
pub const FORGOT_PASSWORD_PATH: &str = "/forgot-password";

fn prefix(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::VerifyEmail => "ev_",
        Purpose::ResetPassword => "pr_",
        Purpose::SecondFactor => "mfa_",
    }
}

/// What a reset link is bound to: a fingerprint of the password hash it was issued
/// against. Any password change (a new salt, a new hash) makes every older link dead.
pub fn password_fingerprint(password_hash: &str) -> String {
    HashedToken::of(password_hash).as_str().to_owned()
}

/// What a new link is bound to.
#[derive(Debug)]
pub enum Binding<'a> {
    Email(&'a str),
    PasswordHash(&'a str),
    /// A sign-in past its password (this hash), waiting for the second factor.
    SecondFactorAfter(&'a str),
}

/// Stores a new token for `user_id` and returns it (the only copy).
pub fn issue(
    conn: &mut DbConnection,
    user_id: &str,
    binding: Binding<'_>,
) -> Result<PlainToken, DbError> {
    let (purpose, validity, email, fingerprint) = match binding {
        Binding::Email(email) => (
            Purpose::VerifyEmail,
            VERIFY_EMAIL_VALIDITY,
            Some(email.to_owned()),
            None,
        ),
        Binding::PasswordHash(hash) => (
            Purpose::ResetPassword,
            RESET_PASSWORD_VALIDITY,
            None,
            Some(password_fingerprint(hash)),
        ),
        Binding::SecondFactorAfter(hash) => (
            Purpose::SecondFactor,
            SECOND_FACTOR_VALIDITY,
            None,
            Some(password_fingerprint(hash)),
        ),
    };
    let token = PlainToken::generate(prefix(purpose));
    let at = now();
    AccountToken::insert(
        conn,
        &AccountToken {
            token_hash: token.hash().as_str().to_owned(),
            user_id: user_id.to_owned(),
            purpose: purpose.as_str().to_owned(),
            email,
            password_fingerprint: fingerprint,
            created_at: at,
            expires_at: at + validity,
            used_at: None,
        },
    )?;
    Ok(token)
}

/// The hash to look a presented token up by, if it can be one of ours for `purpose`.
pub fn lookup_hash(purpose: Purpose, presented: &str) -> Option<HashedToken> {
    (presented.starts_with(prefix(purpose)) && presented.len() <= MAX_TOKEN_LEN)
        .then(|| HashedToken::of(presented))
}

/// The public URL of our page `path`: `issuer` (which may have a path of its own) +
/// `path`.
pub fn page_url(issuer: &str, path: &str) -> String {
    format!("{}{path}", issuer.trim_end_matches('/'))
}

/// The link a message carries: [`page_url`] with the token as a query parameter, encoded
/// by the URL serialiser.
pub fn link(issuer: &str, path: &str, token: &PlainToken) -> String {
    let page = page_url(issuer, path);
    match url::Url::parse(&page) {
        Ok(mut url) => {
            url.query_pairs_mut().append_pair("token", token.expose());
            url.into()
        }
        // The issuer was parsed at startup; this cannot fail, but never panic over it.
        Err(_) => format!("{page}?token={}", token.expose()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_issuers_path() {
        let token = PlainToken::from_client("ev_abc");
        assert_eq!(
            link("https://auth.example.com", VERIFY_EMAIL_PATH, &token),
            "https://auth.example.com/verify-email?token=ev_abc"
        );
        assert_eq!(
            link("https://example.com/auth/", RESET_PASSWORD_PATH, &token),
            "https://example.com/auth/reset-password?token=ev_abc"
        );
    }

    #[test]
    fn only_tokens_of_the_purpose_are_looked_up() {
        assert!(lookup_hash(Purpose::VerifyEmail, "ev_abc").is_some());
        assert!(lookup_hash(Purpose::VerifyEmail, "pr_abc").is_none());
        assert!(lookup_hash(Purpose::ResetPassword, &"pr_".repeat(40)).is_none());
    }
}
