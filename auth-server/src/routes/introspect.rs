//! `POST /introspect` (RFC 7662): whether a token is active, and what it carries.

use actix_web::{HttpRequest, HttpResponse, web};

use super::client_request::{authenticate, key_ring};
use crate::oauth::error::OAuthError;
use crate::oauth::introspection;
use crate::oauth::token_type::TokenType;
use crate::state::AppState;

pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuthError> {
    let (caller, params) = authenticate(&req, &state, form.into_inner()).await?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let hint = TokenType::from_hint(params.get("token_type_hint"));
    let answer = introspection::introspect(
        &state.db,
        key_ring(&state)?,
        &state.tokens,
        &caller,
        token,
        hint,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(answer))
}
