//! `POST /introspect` (RFC 7662): whether a token is active, and what it carries.

use actix_web::{HttpRequest, HttpResponse, web};

use super::client_request::{ClientSource, authenticate, key_ring};
use shared::models::client::Client;

use crate::oauth::error::OAuthError;
use crate::oauth::introspection::{self, IntrospectError};
use crate::oauth::token_type::TokenType;
use crate::state::AppState;

pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuthError> {
    let mut request = authenticate(&req, &state, form.into_inner(), ClientSource::Cache).await?;
    let token = request
        .params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?
        .to_owned();
    let hint = TokenType::from_hint(request.params.get("token_type_hint"));
    let ring = key_ring(&state)?;
    let ask = async |caller: &Client| {
        introspection::introspect(&state.db, ring.clone(), &state.tokens, caller, &token, hint)
            .await
    };
    // A caller authenticated from the cache whose row has changed since is authenticated
    // again from the database, once (see oauth::client_cache).
    let first = ask(&request.client).await;
    let answer = match first {
        Err(IntrospectError::ClientChanged) => {
            request.reauthenticate(&state).await?;
            ask(&request.client).await
        }
        other => other,
    }
    .map_err(|error| match error {
        IntrospectError::Refused(error) => error,
        IntrospectError::ClientChanged => {
            OAuthError::invalid_client("client authentication failed")
        }
    })?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(answer))
}
