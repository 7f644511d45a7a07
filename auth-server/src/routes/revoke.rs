//! `POST /revoke` (RFC 7009): the client revokes one of its tokens; 200 with no body.

use actix_web::{HttpRequest, HttpResponse, web};

use super::client_request::{ClientRequest, ClientSource, authenticate, key_ring};
use crate::oauth::error::OAuthError;
use crate::oauth::revocation;
use crate::oauth::token_type::TokenType;
use crate::state::AppState;

pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuthError> {
    let ClientRequest { client, params, .. } =
        authenticate(&req, &state, form.into_inner(), ClientSource::Database).await?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let hint = TokenType::from_hint(params.get("token_type_hint"));
    revocation::revoke(
        &state.db,
        &state.audit,
        key_ring(&state)?,
        &state.tokens,
        &client,
        token,
        hint,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}
