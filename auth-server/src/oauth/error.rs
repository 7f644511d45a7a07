//! OAuth error responses: RFC 6749 §5.2 for the token endpoint (JSON; `invalid_client` is
//! 401 with `WWW-Authenticate`), and the §4.1.2.1 codes sent back to a client's redirect URI.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use shared::db::DbError;

/// The error codes of RFC 6749 §4.1.2.1 and §5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    /// A rate limit refused the request: `temporarily_unavailable`, but with 429 and the
    /// limit's own `Retry-After` (RFC 6749 has no code of its own for this).
    RateLimited,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable | Self::RateLimited => "temporarily_unavailable",
        }
    }
}

/// An error answered by the token endpoint (and later revocation and introspection).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }
}

/// The token, revocation and introspection endpoints' answer to a rate-limit refusal (the
/// rate-limit middleware adds `Retry-After` and `RateLimit-*`).
pub fn rate_limited(verdict: &shared::ratelimit::Verdict) -> HttpResponse {
    OAuthError::new(
        ErrorCode::RateLimited,
        format!(
            "too many requests; retry after {} seconds",
            verdict.retry_after_secs()
        ),
    )
    .error_response()
}

impl From<DbError> for OAuthError {
    fn from(error: DbError) -> Self {
        if error.is_unavailable() {
            tracing::warn!(error = %error, "database unavailable");
            Self::new(
                ErrorCode::TemporarilyUnavailable,
                "the service is temporarily unavailable",
            )
        } else {
            tracing::error!(error = %error, "database error");
            Self::new(ErrorCode::ServerError, "an unexpected error occurred")
        }
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self.code {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Pragma", "no-cache"));
        if self.code == ErrorCode::InvalidClient {
            // RFC 6749 §5.2: 401 names the scheme the client may authenticate with.
            response.insert_header((
                "WWW-Authenticate",
                "Basic realm=\"oauth\", charset=\"UTF-8\"",
            ));
        }
        if self.code == ErrorCode::TemporarilyUnavailable {
            response.insert_header(("Retry-After", "5"));
        }
        response.json(json!({ "error": self.code.as_str(), "error_description": self.description }))
    }
}
