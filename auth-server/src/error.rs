//! `AppError`: every way a page request can fail, mapped to a status and an error page in
//! one place (account logic's `AccountError` arrives through one `From`). Database outages
//! and a full password-hashing queue are 503 with `Retry-After` (both recover by
//! themselves); bugs are a plain 500 whose cause goes to the log, never to the page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use shared::db::DbError;

use crate::accounts::AccountError;
use crate::templates::{ErrorPage, render};

/// What a sign-in or sign-up page says when the password-hashing queue is full.
pub const BUSY_MESSAGE: &str = "Too many people are signing in right now. Nothing was changed. \
     Please try again in a few seconds.";

/// Seconds a 503 asks the client to wait: a database outage and a full hashing queue
/// both tend to clear within moments.
const RETRY_AFTER_SECONDS: &str = "5";

/// What a form that asks for the password again says while the username is locked.
pub fn wrong_passwords_message(lockout_minutes: i64) -> String {
    format!("Too many wrong passwords. Wait {lockout_minutes} minutes and try again.")
}

/// The message of a form refused because wrong codes (or passwords) locked the account's name.
pub fn wrong_codes_message(lockout_minutes: i64) -> String {
    format!("Too many failed attempts. Wait {lockout_minutes} minutes and try again.")
}

/// A page refused while a username is locked (429), with `Retry-After` for the lock.
pub fn retry_after_lockout(mut response: HttpResponse, lockout_minutes: i64) -> HttpResponse {
    response.headers_mut().insert(
        actix_web::http::header::RETRY_AFTER,
        actix_web::http::header::HeaderValue::from(lockout_minutes * 60),
    );
    response
}

/// A 503 page with `Retry-After`, so a client knows to try again soon.
pub fn retry_soon(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        actix_web::http::header::RETRY_AFTER,
        actix_web::http::header::HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
    response
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the form was not sent from this site or has expired")]
    CsrfRejected,
    #[error("not found")]
    NotFound,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported content type")]
    UnsupportedMediaType,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Every password-hashing thread is busy and the queue is full (sign-in, sign-up).
    #[error("too many sign-ins right now")]
    Busy,
    /// A rate limit refused the request (SECURITY.md 26); the seconds until a retry works.
    #[error("too many requests")]
    TooManyRequests(u64),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<DbError> for AppError {
    fn from(error: DbError) -> Self {
        if error.is_unavailable() {
            Self::Unavailable(error.to_string())
        } else {
            Self::Internal(error.to_string())
        }
    }
}

/// Account failures as pages: an unreachable database is 503, everything else a 500
/// whose cause goes to the log.
impl From<AccountError> for AppError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Unavailable(cause) => Self::Unavailable(cause.to_string()),
            AccountError::PasswordHashingBusy => Self::Busy,
            AccountError::Database(_)
            | AccountError::PasswordHashing(_)
            | AccountError::SecondFactorUnreadable
            | AccountError::AccountVanished => Self::Internal(error.to_string()),
        }
    }
}

impl AppError {
    /// The title and the sentence shown to the person.
    fn page_text(&self) -> (&'static str, String) {
        match self {
            Self::BadRequest(message) => ("That request could not be used", message.clone()),
            Self::CsrfRejected => (
                "This form has expired",
                "The form was not sent from this site or has expired. Go back, reload the page \
                 and try again."
                    .into(),
            ),
            Self::NotFound => ("Page not found", "There is nothing at this address.".into()),
            Self::PayloadTooLarge => (
                "Too much data",
                "The form sent more data than this page accepts.".into(),
            ),
            Self::UnsupportedMediaType => (
                "Unsupported content type",
                "This page accepts forms (application/x-www-form-urlencoded) only.".into(),
            ),
            Self::Unavailable(_) => (
                "Temporarily unavailable",
                "The service cannot reach its database right now. Nothing was changed. Please try \
                 again in a moment."
                    .into(),
            ),
            Self::Busy => ("Too busy right now", BUSY_MESSAGE.into()),
            Self::TooManyRequests(seconds) => (
                "Too many requests",
                format!(
                    "Too many requests came from your network in a short time. Please wait \
                     {seconds} seconds and try again."
                ),
            ),
            Self::Internal(_) => (
                "Something went wrong",
                "An unexpected error occurred. Please try again.".into(),
            ),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::CsrfRejected => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) | Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Unavailable(cause) => tracing::warn!(cause = %cause, "database unavailable"),
            Self::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            Self::CsrfRejected => {
                tracing::warn!(target: "security", event = "csrf_rejected", "form without a valid CSRF token refused")
            }
            _ => {}
        }
        let (title, message) = self.page_text();
        let status = self.status_code();
        let response = render(
            status,
            &ErrorPage {
                title,
                message: &message,
                status: status.as_u16(),
            },
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            retry_soon(response)
        } else {
            response
        }
    }
}
