//! Discovery documents: RFC 8414 metadata, the same as OpenID Provider metadata (Discovery
//! 1.0), and the JWKS (RFC 7517) of the signing keys.

use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::oauth::metadata;
use crate::state::AppState;

pub async fn authorization_server_metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .json(metadata::document(&state.settings.urls.issuer))
}

/// Cached briefly: a resource server that meets an unknown `kid` refetches anyway.
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let ring = state
        .keys
        .current()
        .ok_or_else(|| AppError::Unavailable("signing keys are not loaded yet".into()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(ring.jwks.clone()))
}
