//! OAuth error answers as plain data: the error codes of RFC 6749 §4.1.2.1 and §5.2, each
//! with the HTTP status and headers it is answered with. The codes sent back to a client's
//! redirect URI use the same names. Turning an `OAuthError` into an HTTP response is the
//! web layer's work (`web::oauth_error`).

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
    /// OpenID Connect Core §3.1.2.6, for `prompt=none`: the person must sign in.
    LoginRequired,
    /// … must consent.
    ConsentRequired,
    /// … must act on one of our pages.
    InteractionRequired,
}

/// How an error code is answered over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// Whether the answer names the authentication scheme in `WWW-Authenticate`
    /// (RFC 6749 §5.2: a 401 for `invalid_client`).
    pub www_authenticate: bool,
    /// A fixed `Retry-After`, in seconds. A rate-limit refusal carries the limit's own,
    /// added by the rate-limit middleware.
    pub retry_after_secs: Option<u64>,
}

impl HttpAnswer {
    const fn status(status: u16) -> Self {
        Self {
            status,
            www_authenticate: false,
            retry_after_secs: None,
        }
    }
}

/// The scheme a client may authenticate with, for `WWW-Authenticate` (RFC 6749 §2.3.1).
pub const CLIENT_AUTH_CHALLENGE: &str = "Basic realm=\"oauth\", charset=\"UTF-8\"";

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
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
        }
    }

    /// The status and headers of this code's answer (RFC 6749 §5.2: 400 unless said
    /// otherwise; `invalid_client` is 401 naming the scheme).
    pub const fn http(self) -> HttpAnswer {
        match self {
            Self::InvalidClient => HttpAnswer {
                status: 401,
                www_authenticate: true,
                retry_after_secs: None,
            },
            Self::ServerError => HttpAnswer::status(500),
            Self::TemporarilyUnavailable => HttpAnswer {
                status: 503,
                www_authenticate: false,
                retry_after_secs: Some(5),
            },
            Self::RateLimited => HttpAnswer::status(429),
            Self::InvalidRequest
            | Self::InvalidGrant
            | Self::UnauthorizedClient
            | Self::UnsupportedGrantType
            | Self::UnsupportedResponseType
            | Self::InvalidScope
            | Self::AccessDenied
            | Self::LoginRequired
            | Self::ConsentRequired
            | Self::InteractionRequired => HttpAnswer::status(400),
        }
    }
}

/// An error answered by the token, revocation and introspection endpoints.
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

    /// A rate-limit refusal; retrying works after `retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::new(
            ErrorCode::RateLimited,
            format!("too many requests; retry after {retry_after_secs} seconds"),
        )
    }

    /// The JSON body of the answer (RFC 6749 §5.2).
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.code.as_str(), "error_description": self.description })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_has_its_status() {
        assert_eq!(ErrorCode::InvalidRequest.http(), HttpAnswer::status(400));
        assert_eq!(ErrorCode::UnsupportedGrantType.http().status, 400);
        let invalid_client = ErrorCode::InvalidClient.http();
        assert_eq!(invalid_client.status, 401);
        assert!(invalid_client.www_authenticate);
        assert_eq!(ErrorCode::ServerError.http().status, 500);
        assert_eq!(
            ErrorCode::TemporarilyUnavailable.http().retry_after_secs,
            Some(5)
        );
        assert_eq!(ErrorCode::RateLimited.http(), HttpAnswer::status(429));
        assert_eq!(ErrorCode::RateLimited.as_str(), "temporarily_unavailable");
    }
}
