//! CSRF tokens (SECURITY.md 7). A signed-in person's forms carry the token stored with
//! their session; the sign-in and sign-up forms, shown before there is a session, carry a
//! random token that must equal the one in a `SameSite`, `HttpOnly` cookie set with the
//! form (the double-submit pattern). Comparisons are constant-time.

use actix_web::HttpRequest;
use actix_web::cookie::Cookie;
use shared::token::{PlainToken, constant_time_eq};

use crate::error::AppError;
use crate::web::cookies::CookiePolicy;

/// Cookie values we issued are 43 base64url characters; anything else is replaced.
fn looks_like_our_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The token for an anonymous form, and the cookie to set when the browser has none yet.
pub fn anonymous_token(
    req: &HttpRequest,
    cookies: &CookiePolicy,
) -> (String, Option<Cookie<'static>>) {
    if let Some(existing) = req.cookie(cookies.csrf_name)
        && looks_like_our_token(existing.value())
    {
        return (existing.value().to_owned(), None);
    }
    let token = PlainToken::generate("").expose().to_owned();
    let cookie = cookies.csrf(&token);
    (token, Some(cookie))
}

/// Refuses an anonymous form whose token does not match the browser's CSRF cookie.
pub fn verify_anonymous(
    req: &HttpRequest,
    cookies: &CookiePolicy,
    submitted: &str,
) -> Result<(), AppError> {
    match req.cookie(cookies.csrf_name) {
        Some(cookie)
            if looks_like_our_token(cookie.value())
                && constant_time_eq(cookie.value(), submitted) =>
        {
            Ok(())
        }
        _ => Err(AppError::CsrfRejected),
    }
}

/// Refuses a signed-in form whose token is not the session's.
pub fn verify_session(expected: &str, submitted: &str) -> Result<(), AppError> {
    if constant_time_eq(expected, submitted) {
        Ok(())
    } else {
        Err(AppError::CsrfRejected)
    }
}
