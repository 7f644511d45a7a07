//! What `/token`, `/revoke` and `/introspect` share: a form body read as OAuth parameters
//! (no repeats, valid UTF-8, bounded values; RFC 6749 §3.2) and an authenticated client
//! (RFC 6749 §2.3). Malformed bodies get RFC 6749 JSON errors, never an HTML page.

use actix_web::error::{InternalError, UrlencodedError};
use actix_web::{HttpRequest, ResponseError, web};
use shared::models::client::Client;

use crate::oauth::clients;
use crate::oauth::error::OAuthError;
use crate::oauth::params::{MAX_VALUE_LEN, Params};
use crate::state::AppState;

const FORM_LIMIT: usize = 16 * 1024;

pub fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(FORM_LIMIT)
        .error_handler(|error: UrlencodedError, _req| {
            let description = match &error {
                UrlencodedError::Overflow { .. } => "the request body is too large".to_owned(),
                UrlencodedError::ContentType => {
                    "the body must be application/x-www-form-urlencoded".to_owned()
                }
                other => format!("the body could not be read: {other}"),
            };
            let response = OAuthError::invalid_request(description).error_response();
            InternalError::from_response(error, response).into()
        })
}

/// A request of an authenticated client: its parameters, and what it authenticated with,
/// kept to authenticate it again if its cached row turns out to have changed.
#[derive(Debug)]
pub struct ClientRequest {
    pub client: Client,
    pub params: Params,
    credentials: clients::ClientCredentials,
    ip: Option<String>,
}

impl ClientRequest {
    /// After the database said the cached client changed: forget it and authenticate
    /// again from its current row.
    pub async fn reauthenticate(&mut self, state: &AppState) -> Result<(), OAuthError> {
        state.clients.evict(&self.credentials.client_id);
        self.client = clients::authenticate(
            &state.db,
            Some(&state.clients),
            &state.audit,
            &self.credentials,
            self.ip.as_deref(),
        )
        .await?;
        Ok(())
    }
}

/// Where a client's row is read from: the in-memory cache (for endpoints that confirm it
/// in their own database work, see `oauth::client_cache`) or the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSource {
    Cache,
    Database,
}

/// Reads the parameters and authenticates the client that sent them.
pub async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
    form: Vec<(String, String)>,
    source: ClientSource,
) -> Result<ClientRequest, OAuthError> {
    let params = Params::new(form);
    if let Some(name) = params.first_repeated() {
        return Err(OAuthError::invalid_request(format!(
            "parameter {name} is repeated"
        )));
    }
    if let Some(name) = params.first_malformed() {
        return Err(OAuthError::invalid_request(format!(
            "parameter {name} is not valid UTF-8"
        )));
    }
    if let Some(name) = params.first_too_long(&[
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "client_id",
        "client_secret",
        "refresh_token",
        "scope",
        "token",
        "token_type_hint",
    ]) {
        return Err(OAuthError::invalid_request(format!(
            "parameter {name} is too long (over {MAX_VALUE_LEN} bytes)"
        )));
    }
    let authorization = match req.headers().get(actix_web::http::header::AUTHORIZATION) {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| OAuthError::invalid_client("malformed Authorization header"))?,
        ),
        None => None,
    };
    let credentials = clients::credentials(
        authorization,
        params.get("client_id"),
        params.get("client_secret"),
    )?;
    let ip = shared::http::client_ip(req, state.settings.http.trust_proxy_headers);
    let cache = (source == ClientSource::Cache).then_some(&state.clients);
    let client =
        clients::authenticate(&state.db, cache, &state.audit, &credentials, ip.as_deref()).await?;
    state.client_usage.note(&state.db, &client.client_id);
    Ok(ClientRequest {
        client,
        params,
        credentials,
        ip,
    })
}

/// The signing keys, or 503 while they could not be loaded yet.
pub fn key_ring(
    state: &AppState,
) -> Result<std::sync::Arc<crate::oauth::keys::KeyRing>, OAuthError> {
    state.keys.current().ok_or_else(|| {
        OAuthError::new(
            crate::oauth::error::ErrorCode::TemporarilyUnavailable,
            "signing keys are not loaded yet",
        )
    })
}
