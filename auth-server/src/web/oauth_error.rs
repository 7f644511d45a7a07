//! OAuth errors as HTTP responses (RFC 6749 §5.2): JSON, never cached, with the status and
//! headers `oauth::error::ErrorCode::http` names for the code.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use shared::ratelimit::Verdict;

use crate::oauth::error::{CLIENT_AUTH_CHALLENGE, OAuthError};

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let answer = self.code.http();
        let mut response = HttpResponse::build(self.status_code());
        response
            .insert_header((CACHE_CONTROL, "no-store"))
            .insert_header((PRAGMA, "no-cache"));
        if answer.www_authenticate {
            response.insert_header((WWW_AUTHENTICATE, CLIENT_AUTH_CHALLENGE));
        }
        if let Some(seconds) = answer.retry_after_secs {
            response.insert_header((RETRY_AFTER, seconds.to_string()));
        }
        response.json(self.body())
    }
}

/// The token, revocation and introspection endpoints' answer to a rate-limit refusal (the
/// rate-limit middleware adds `Retry-After` and `RateLimit-*`).
pub fn rate_limited(verdict: &Verdict) -> HttpResponse {
    OAuthError::rate_limited(verdict.retry_after_secs()).error_response()
}
