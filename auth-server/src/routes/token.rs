//! `POST /token` (RFC 6749 §3.2): client authentication, the client's rate limit, then
//! the grant the request names (`oauth::token`). Every answer is JSON with
//! `Cache-Control: no-store` (§5.1, §5.2).

use actix_web::{HttpRequest, HttpResponse, web};
use shared::metrics::{ErrorLabels, GrantLabels};
use shared::ratelimit::Scope;

use super::client_request::{ClientRequest, ClientSource, authenticate, key_ring};
use crate::oauth::error::OAuthError;
use crate::oauth::grant_type::GrantType;
use crate::oauth::minting::{ExchangeError, TokenResponse};
use crate::oauth::token::{self, TokenRequest};
use crate::state::AppState;
use crate::web::oauth_error::rate_limited;

pub async fn exchange(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuthError> {
    let answer = answer(req, state, form).await;
    // Counted by grant type and error code only: no client, user or token in a label.
    let metrics = shared::metrics::metrics();
    match &answer {
        Ok((_, Some(grant_type))) => {
            let grant_type = grant_type.as_str();
            metrics
                .tokens_issued
                .get_or_create(&GrantLabels { grant_type })
                .inc();
        }
        Ok((_, None)) => {}
        Err(error) => {
            let error = error.code.as_str();
            metrics
                .token_errors
                .get_or_create(&ErrorLabels { error })
                .inc();
        }
    }
    answer.map(|(response, _)| response)
}

/// The answer, and the grant type of the token issued, if one was.
async fn answer(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<(HttpResponse, Option<GrantType>), OAuthError> {
    // Before anything that may wait: a code or refresh token spent after this moment was
    // spent by a request racing this one (see oauth::refresh).
    let arrived_at = shared::models::now();
    let mut request = authenticate(&req, &state, form.into_inner(), ClientSource::Cache).await?;
    // SECURITY.md 26: each confidential client has its own budget, wherever its requests
    // come from. A public client's id is no secret: anyone could spend its budget for all
    // of its users, so public clients are limited per IP only.
    if !request.client.is_public {
        let verdict = state
            .limiter
            .check_caller(Scope::Client, &request.client.client_id)
            .await;
        shared::ratelimit::note_verdict(&req, verdict);
        if !verdict.is_allowed() {
            return Ok((rate_limited(&verdict), None));
        }
    }
    // A client authenticated from the cache whose row has changed since is authenticated
    // again from the database, once (see oauth::client_cache).
    let response = match run_grant(&state, &request, arrived_at).await {
        Err(ExchangeError::ClientChanged) => {
            request.reauthenticate(&state).await?;
            run_grant(&state, &request, arrived_at).await
        }
        other => other,
    };
    let (response, grant_type) = response.map_err(|error| match error {
        ExchangeError::Refused(error) => error,
        ExchangeError::ClientChanged => OAuthError::invalid_client("client authentication failed"),
    })?;
    let response = HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(response);
    Ok((response, Some(grant_type)))
}

async fn run_grant(
    state: &AppState,
    request: &ClientRequest,
    arrived_at: chrono::NaiveDateTime,
) -> Result<(TokenResponse, GrantType), ExchangeError> {
    let grant_type = GrantType::requested_by(&request.client, &request.params)?;
    let ring = key_ring(state)?;
    let grant = TokenRequest::parse(grant_type, &request.params)?;
    token::exchange(
        &state.db,
        &state.audit,
        ring,
        state.tokens.clone(),
        request.client.clone(),
        grant,
        arrived_at,
    )
    .await
    .map(|response| (response, grant_type))
}
