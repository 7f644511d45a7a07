//! `GET|POST /userinfo` (OpenID Connect Core §5.3): a Bearer access token in the
//! `Authorization` header (RFC 6750 §2.1) or, for POST, the form body's `access_token`
//! (§2.2) — never both; errors as RFC 6750 §3 says, with `WWW-Authenticate`.

use actix_web::HttpMessage as _;
use actix_web::http::header::{self, CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::client_request::key_ring;
use crate::oauth::error::OAuthError;
use crate::oidc::userinfo::{self, UserInfoError};
use crate::state::AppState;

/// An RFC 6750 §3 answer: `error` in the challenge and the body (none when no token came).
fn challenge(status: StatusCode, error: Option<&str>, description: &str) -> HttpResponse {
    let mut value = String::from("Bearer realm=\"userinfo\"");
    if let Some(error) = error {
        value.push_str(&format!(", error=\"{error}\""));
        if error == "insufficient_scope" {
            value.push_str(", scope=\"openid\"");
        }
    }
    let mut response = HttpResponse::build(status);
    response
        .insert_header((WWW_AUTHENTICATE, value))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"));
    match error {
        Some(error) => response.json(json!({ "error": error, "error_description": description })),
        None => response.finish(),
    }
}

/// The form body's `access_token`, for a POST with a form body; `Err` describes an
/// `invalid_request`.
fn body_token(req: &HttpRequest, body: &[u8]) -> Result<Option<String>, &'static str> {
    let is_form = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|mime| mime.essence_str() == "application/x-www-form-urlencoded");
    if req.method() != Method::POST || !is_form {
        return Ok(None);
    }
    let unreadable = "the form body could not be read";
    let text = std::str::from_utf8(body).map_err(|_| unreadable)?;
    let pairs = web::Query::<Vec<(String, String)>>::from_query(text)
        .map_err(|_| unreadable)?
        .into_inner();
    let mut tokens = pairs.into_iter().filter(|(name, _)| name == "access_token");
    match (tokens.next(), tokens.next()) {
        (_, Some(_)) => Err("access_token is repeated"),
        (token, None) => Ok(token.map(|(_, value)| value)),
    }
}

pub async fn userinfo(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let from_header = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(value) => match value.to_str().ok().and_then(shared::http::bearer::token) {
            Some(token) => Some(token.to_owned()),
            None => {
                return Ok(challenge(
                    StatusCode::UNAUTHORIZED,
                    Some("invalid_token"),
                    "the Authorization header is not a Bearer token",
                ));
            }
        },
    };
    let from_body = match body_token(&req, &body) {
        Ok(token) => token,
        Err(description) => {
            return Ok(challenge(
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
                description,
            ));
        }
    };
    let token = match (from_header, from_body) {
        (Some(_), Some(_)) => {
            return Ok(challenge(
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
                "the access token was sent twice (RFC 6750 §2: one method only)",
            ));
        }
        (Some(token), None) | (None, Some(token)) => token,
        (None, None) => {
            return Ok(challenge(
                StatusCode::UNAUTHORIZED,
                None,
                "an access token is required",
            ));
        }
    };
    let ring = key_ring(&state)?;
    match userinfo::claims_for(&state.db, ring, &state.tokens, &token).await {
        Ok(claims) => Ok(HttpResponse::Ok()
            .insert_header((CACHE_CONTROL, "no-store"))
            .insert_header((PRAGMA, "no-cache"))
            .json(claims)),
        Err(UserInfoError::InvalidToken(description)) => Ok(challenge(
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
            description,
        )),
        Err(UserInfoError::InsufficientScope) => Ok(challenge(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "the access token was not granted the openid scope",
        )),
        Err(UserInfoError::Db(error)) => Err(error.into()),
    }
}
