//! `POST /token` (RFC 6749 §3.2): client authentication, then the grant —
//! `authorization_code` (§4.1.3), `refresh_token` (§6), `client_credentials` (§4.4).
//! Every answer is JSON with `Cache-Control: no-store` (§5.1, §5.2).

use actix_web::{HttpRequest, HttpResponse, web};
use shared::ratelimit::Scope;
use shared::token::PlainToken;

use super::client_request::{authenticate, key_ring};
use crate::oauth::client_credentials;
use crate::oauth::clients::{
    GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS, GRANT_REFRESH_TOKEN,
};
use crate::oauth::codes::{self, CodeExchange};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::refresh::{self, RefreshRequest};
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
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
    if ![
        GRANT_AUTHORIZATION_CODE,
        GRANT_REFRESH_TOKEN,
        GRANT_CLIENT_CREDENTIALS,
    ]
    .contains(&grant_type)
    {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "supported grant types: authorization_code, refresh_token, client_credentials",
        ));
    }
    if !client.allows_grant_type(grant_type) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use this grant type",
        ));
    }
    let ring = key_ring(&state)?;
    let response = match grant_type {
        GRANT_AUTHORIZATION_CODE => {
            let code = params
                .get("code")
                .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
            let exchange = CodeExchange {
                code: PlainToken::from_client(code),
                redirect_uri: params.get("redirect_uri").map(str::to_owned),
                code_verifier: params.get("code_verifier").map(str::to_owned),
                arrived_at,
            };
            codes::exchange(&state.db, ring, state.tokens.clone(), client, exchange).await?
        }
        GRANT_REFRESH_TOKEN => {
            let token = params
                .get("refresh_token")
                .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
            let request = RefreshRequest {
                refresh_token: PlainToken::from_client(token),
                scope: params.get("scope").map(str::to_owned),
                arrived_at,
            };
            refresh::refresh(&state.db, ring, state.tokens.clone(), client, request).await?
        }
        _ => {
            client_credentials::issue(
                &state.db,
                ring,
                state.tokens.clone(),
                client,
                params.get("scope"),
            )
            .await?
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(response))
}
