//! `POST /token` (RFC 6749 §3.2): client authentication, the client's rate limit, then
//! the grant the request names (`oauth::token`). Every answer is JSON with
//! `Cache-Control: no-store` (§5.1, §5.2).

use actix_web::{HttpRequest, HttpResponse, web};
use shared::ratelimit::Scope;

use super::client_request::{authenticate, key_ring};
use crate::oauth::error::OAuthError;
use crate::oauth::grant_type::GrantType;
use crate::oauth::token::{self, TokenRequest};
use crate::state::AppState;
use crate::web::oauth_error::rate_limited;

pub async fn exchange(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuthError> {
    // Before anything that may wait: a code or refresh token spent after this moment was
    // spent by a request racing this one (see oauth::refresh).
    let arrived_at = shared::models::now();
    let (client, params) = authenticate(&req, &state, form.into_inner()).await?;
    // SECURITY.md 26: each confidential client has its own budget, wherever its requests
    // come from. A public client's id is no secret: anyone could spend its budget for all
    // of its users, so public clients are limited per IP only.
    if !client.is_public {
        let verdict = state
            .limiter
            .check_caller(Scope::Client, &client.client_id)
            .await;
        shared::ratelimit::note_verdict(&req, verdict);
        if !verdict.is_allowed() {
            return Ok(rate_limited(&verdict));
        }
    }
    let grant_type = GrantType::requested_by(&client, &params)?;
    let ring = key_ring(&state)?;
    let request = TokenRequest::parse(grant_type, &params)?;
    let response = token::exchange(
        &state.db,
        &state.audit,
        ring,
        state.tokens.clone(),
        client,
        request,
        arrived_at,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(response))
}
