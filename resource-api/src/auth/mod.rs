//! Who is calling: the `Authenticated` extractor (SECURITY.md 17–20). A Bearer JWT from
//! the `Authorization` header only, verified locally: `alg` pinned to EdDSA, `typ` at+jwt,
//! `kid` in the issuer's JWKS, `iss`, `aud`, `exp` and `nbf` checked with 60 s of leeway,
//! and the `jti` not on the revocation list. Failures answer RFC 6750 §3.

mod api_key;
pub mod jwks;
pub mod jwt;
pub mod revocations;
pub mod verified;

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};
use jsonwebtoken::{Algorithm, Validation};
use serde_json::json;
use shared::ratelimit::Scope;

use self::jwt::CheckedToken;
use crate::state::ApiState;

/// RFC 6750 §2.1 leaves clock skew to us; SECURITY.md 18 caps it at 60 s. Shared with
/// what must outlast a token's acceptance (the revocation list, housekeeping).
pub use shared::claims::LEEWAY_SECONDS;

/// How every access token is checked (SECURITY.md 18), built once at startup: `alg`
/// pinned to EdDSA, `iss` and `aud` ours, `exp` and `nbf` with the leeway.
pub fn token_validation(issuer: &str, audience: &str) -> Validation {
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation
}

/// How the caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    AccessToken,
    ApiKey,
}

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// `sub`: a user's id, or the client's own id for a token with no user.
    pub subject: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub via: Via,
}

impl Authenticated {
    /// The user this call acts for; `None` for a client acting for itself.
    pub fn user_id(&self) -> Option<&str> {
        (self.subject != self.client_id).then_some(self.subject.as_str())
    }

    /// RFC 6750 §3.1: 403 `insufficient_scope` naming the scope needed.
    pub fn require(&self, scope: &'static str) -> Result<(), AuthError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope(scope))
        }
    }

    /// The user's id, or 403 for a token that acts for no user (client credentials).
    pub fn require_user(&self, scope: &'static str) -> Result<&str, AuthError> {
        self.require(scope)?;
        self.user_id().ok_or(AuthError::NoUser)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// No credentials at all: 401 with a bare challenge (RFC 6750 §3.1).
    #[error("authentication required")]
    Missing,
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    #[error("insufficient scope: {0} required")]
    InsufficientScope(&'static str),
    #[error("this resource belongs to a user; the token acts for none")]
    NoUser,
    /// The credential could not be checked (an API key needs the database).
    #[error("service unavailable")]
    Unavailable,
    /// The caller's own rate limit refused the request.
    #[error("too many requests")]
    RateLimited(shared::ratelimit::Verdict),
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Missing | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope(_) | Self::NoUser => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (challenge, detail) = match self {
            Self::Unavailable => return crate::problem::Problem::Unavailable.error_response(),
            Self::RateLimited(verdict) => return crate::rate_limit::refusal(verdict),
            Self::Missing => (
                "Bearer realm=\"tasks\"".to_owned(),
                "Send an access token in the Authorization header.".to_owned(),
            ),
            Self::InvalidToken(why) => (
                format!(
                    "Bearer realm=\"tasks\", error=\"invalid_token\", error_description=\"{why}\""
                ),
                format!("The access token is not valid: {why}."),
            ),
            Self::InsufficientScope(scope) => (
                format!("Bearer realm=\"tasks\", error=\"insufficient_scope\", scope=\"{scope}\""),
                format!("The access token lacks the scope {scope}."),
            ),
            Self::NoUser => (
                "Bearer realm=\"tasks\", error=\"insufficient_scope\"".to_owned(),
                "Tasks belong to users; this token acts for a client alone.".to_owned(),
            ),
        };
        let status = self.status_code();
        let title = if status == StatusCode::UNAUTHORIZED {
            "Unauthorized"
        } else {
            "Forbidden"
        };
        HttpResponse::build(status)
            .insert_header(("WWW-Authenticate", challenge))
            .content_type("application/problem+json")
            .body(json!({ "type": "about:blank", "title": title, "status": status.as_u16(), "detail": detail }).to_string())
    }
}

/// The token from `Authorization: Bearer …` (RFC 6750 §2.1); never from the query string.
fn bearer_token(req: &HttpRequest) -> Result<String, AuthError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or(AuthError::Missing)?;
    let value = header
        .to_str()
        .map_err(|_| AuthError::InvalidToken("malformed Authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(AuthError::InvalidToken("malformed Authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::InvalidToken("expected a Bearer token"));
    }
    Ok(token.trim().to_owned())
}

async fn verify(state: &ApiState, token: &str) -> Result<Authenticated, AuthError> {
    // Personal API keys carry their prefix; anything else is treated as a JWT.
    if token.starts_with(shared::models::api_key::KEY_PREFIX) {
        return api_key::verify(&state.db, token).await;
    }
    let (caller, jti) = match state.verified.get(token, |kid| state.jwks.publishes(kid)) {
        Some(hit) => hit,
        None => {
            let checked = verify_signature(state, token).await?;
            state.verified.insert(
                token,
                &checked.caller,
                &checked.jti,
                &checked.kid,
                checked.exp,
            );
            (checked.caller, checked.jti)
        }
    };
    // Checked on every request, cached or not (SECURITY.md 19).
    match state.revocations.is_revoked(&jti) {
        Some(false) => Ok(caller),
        Some(true) => Err(AuthError::InvalidToken("the token has been revoked")),
        None => Err(AuthError::Unavailable),
    }
}

/// The full check of a token not seen before: header, key, signature, claims (`jwt`).
async fn verify_signature(state: &ApiState, token: &str) -> Result<CheckedToken, AuthError> {
    let kid = jwt::read_header(token)?;
    let key = state
        .jwks
        .key(&kid)
        .await
        .ok_or(AuthError::InvalidToken("unknown signing key"))?;
    jwt::check(token, kid, &key, &state.validation)
}

impl FromRequest for Authenticated {
    type Error = AuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AuthError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<ApiState>>().cloned();
        let token = bearer_token(req);
        let req = req.clone();
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or(AuthError::InvalidToken("server misconfigured"))?;
            let caller = verify(&state, &token).await?;
            // SECURITY.md 26: each user (or client acting for itself) has its own budget.
            let verdict = state
                .limiter
                .check_caller(Scope::User, &caller.subject)
                .await;
            shared::ratelimit::note_verdict(&req, verdict);
            if !verdict.is_allowed() {
                return Err(AuthError::RateLimited(verdict));
            }
            Ok(caller)
        })
    }
}
