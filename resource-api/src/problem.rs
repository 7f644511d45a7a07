//! Error responses of the task API: RFC 9457 problem details (`application/problem+json`),
//! with an `errors` map of field → message for validation failures.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use shared::db::DbError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Problem {
    #[error("validation failed")]
    Validation(BTreeMap<String, String>),
    #[error("{0}")]
    BadRequest(String),
    #[error("not found")]
    NotFound,
    #[error("request body too large")]
    /// The body exceeded `limit` bytes.
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("service unavailable")]
    Unavailable,
    /// A rate limit refused the request (SECURITY.md 26); the caller adds `Retry-After`.
    #[error("too many requests")]
    TooManyRequests(u64),
    #[error("internal error")]
    Internal,
}

impl From<DbError> for Problem {
    fn from(error: DbError) -> Self {
        if error.is_unavailable() {
            tracing::warn!(error = %error, "database unavailable");
            Self::Unavailable
        } else {
            tracing::error!(error = %error, "database error");
            Self::Internal
        }
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (title, detail) = match self {
            Self::Validation(_) => (
                "Validation failed",
                "One or more fields are invalid.".to_owned(),
            ),
            Self::BadRequest(detail) => ("Bad request", detail.clone()),
            Self::NotFound => ("Not found", "There is no such resource.".to_owned()),
            Self::PayloadTooLarge { limit } => (
                "Payload too large",
                format!("The request body exceeds {} KiB.", limit / 1024),
            ),
            Self::UnsupportedMediaType => (
                "Unsupported media type",
                "Send application/json.".to_owned(),
            ),
            Self::Unavailable => (
                "Service unavailable",
                "The database cannot be reached; try again shortly.".to_owned(),
            ),
            Self::TooManyRequests(seconds) => (
                "Too many requests",
                format!("A rate limit was reached; retry after {seconds} seconds."),
            ),
            Self::Internal => (
                "Internal server error",
                "An unexpected error occurred.".to_owned(),
            ),
        };
        let mut body = json!({ "type": "about:blank", "title": title, "status": status.as_u16(), "detail": detail });
        if let Self::Validation(errors) = self {
            body["errors"] = json!(errors);
        }
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        if matches!(self, Self::Unavailable) {
            response.insert_header(("Retry-After", "5"));
        }
        response.body(body.to_string())
    }
}
