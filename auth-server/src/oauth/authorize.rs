//! Validating an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 9700).
//!
//! The client and its redirect URI are checked first: while either is in doubt, errors
//! are shown on our own page and never redirected (RFC 6749 §4.1.2.1, RFC 9700 §4.11: no
//! open redirector). Everything after that goes back to the client as an error redirect
//! carrying `state` and `iss` (RFC 9207).

use std::fmt;
use std::str::FromStr;

use shared::db::Db;
use shared::models::client::Client;

use super::client_cache::ClientCache;
use super::clients;
use super::error::{ErrorCode, OAuthError};
use super::grant_type::GrantType;
use super::params::{MAX_VALUE_LEN, Params, UnsupportedValue};
use super::pkce;
use super::redirect_uri::RedirectUri;
use super::scope::{Scope, ScopeError};
use crate::oidc::request::{InvalidParam, OidcParams};

/// The longest `state` echoed back; longer is refused as invalid_request.
pub const MAX_STATE_LEN: usize = 1024;

/// The response types this server supports (RFC 6749 §3.1.1): the authorization code
/// only (RFC 9700 §2.1.2: no implicit grant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Code,
}

impl ResponseType {
    pub const ALL: [ResponseType; 1] = [Self::Code];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
        }
    }
}

impl FromStr for ResponseType {
    type Err = UnsupportedValue;

    /// The whole value: `code id_token` is another response type, not a list.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|response_type| response_type.as_str() == value)
            .ok_or_else(|| UnsupportedValue::new("response_type", value))
    }
}

impl fmt::Display for ResponseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request that passed every check: ready for consent and a code.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Client,
    pub redirect_uri: RedirectUri,
    pub redirect_uri_in_request: bool,
    pub scope: Scope,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    /// `nonce`, `prompt`, `max_age`, `login_hint` (OpenID Connect Core §3.1.2.1).
    pub oidc: OidcParams,
}

/// An error answer (RFC 6749 §4.1.2.1) for the client's verified redirect URI.
#[derive(Debug)]
pub struct ErrorRedirect {
    pub redirect_uri: RedirectUri,
    pub state: Option<String>,
    pub error: ErrorCode,
    pub description: String,
}

/// Why a request was refused, and where the person learns about it.
#[derive(Debug)]
pub enum AuthorizeError {
    /// Shown on our error page: the client or its redirect URI cannot be trusted.
    Page(String),
    /// Sent to the client's (verified) redirect URI.
    Redirect(Box<ErrorRedirect>),
    /// The database failed: a 503 page.
    Unavailable(OAuthError),
}

impl AuthorizeError {
    pub fn redirect(
        redirect_uri: &RedirectUri,
        state: Option<&str>,
        error: ErrorCode,
        description: impl Into<String>,
    ) -> Self {
        Self::Redirect(Box::new(ErrorRedirect {
            redirect_uri: redirect_uri.clone(),
            state: state.map(str::to_owned),
            error,
            description: description.into(),
        }))
    }
}

/// Checks an authorization request's parameters against the registry.
pub async fn validate(db: &Db, params: &Params) -> Result<AuthorizationRequest, AuthorizeError> {
    // 1. The client, before anything else.
    let client_id = client_id(params)?;
    let client = clients::find(db, client_id.to_owned())
        .await
        .map_err(|e| AuthorizeError::Unavailable(OAuthError::from(e)))?
        .ok_or_else(|| {
            AuthorizeError::Page(
                "The app that sent you here is not registered (unknown client_id).".into(),
            )
        })?;
    if !client.is_enabled() {
        return Err(AuthorizeError::Page(format!(
            "The app “{}” has been disabled.",
            client.name
        )));
    }
    check_against(client, params)
}

/// [`validate`] against the client as `cache` holds it, with no database read: `None`
/// unless the cached client is enabled and accepts the whole request. A refusal is never
/// decided from the cache; the caller validates from the database instead. What the
/// request goes on to write must first confirm the client's row is unchanged (see
/// `client_cache`).
pub fn validate_cached(cache: &ClientCache, params: &Params) -> Option<AuthorizationRequest> {
    let client = cache.get(client_id(params).ok()?)?;
    if !client.is_enabled() {
        return None;
    }
    check_against(client, params).ok()
}

/// The request's one `client_id`.
fn client_id(params: &Params) -> Result<&str, AuthorizeError> {
    if params.is_repeated("client_id") {
        return Err(AuthorizeError::Page(
            "The request names more than one client_id.".into(),
        ));
    }
    let client_id = params.get("client_id").ok_or_else(|| {
        AuthorizeError::Page(
            "The request does not say which app is asking (client_id is missing).".into(),
        )
    })?;
    if client_id.len() > MAX_VALUE_LEN {
        return Err(AuthorizeError::Page("The client_id is too long.".into()));
    }
    Ok(client_id)
}

/// Everything after the client: its redirect URI, then the parameters.
fn check_against(client: Client, params: &Params) -> Result<AuthorizationRequest, AuthorizeError> {
    // 2. The redirect URI: parsed as a browser parses it, and registered for this client
    //    (RFC 9700 §4.1.3; RFC 8252 §7.3 for the loopback port). Until it is, errors are
    //    shown here and never redirected (RFC 6749 §4.1.2.1).
    if params.is_repeated("redirect_uri") {
        return Err(AuthorizeError::Page(
            "The request names more than one redirect_uri.".into(),
        ));
    }
    let (redirect_uri, redirect_uri_in_request) = match params.get("redirect_uri") {
        Some(requested) => {
            let registered = RedirectUri::find_registered(client.redirect_uri_list(), requested)
                .ok_or_else(|| {
                    AuthorizeError::Page(
                        "The redirect_uri is not registered for this app, so you cannot be sent back to it.".into(),
                    )
                })?;
            (registered, true)
        }
        None => {
            // RFC 6749 §3.1.2.3: may be omitted only when one URI is registered.
            let mut registered = client.redirect_uri_list();
            match (registered.next(), registered.next()) {
                (Some(only), None) => {
                    let only = RedirectUri::from_registered(only).ok_or_else(|| {
                        AuthorizeError::Page(
                            "The app's registered redirect URI is not valid; its operator must register it again.".into(),
                        )
                    })?;
                    (only, false)
                }
                _ => {
                    return Err(AuthorizeError::Page(
                        "The request must name its redirect_uri (the app has several).".into(),
                    ));
                }
            }
        }
    };

    // From here on, errors go back to the client.
    let state = params.get("state").filter(|s| s.len() <= MAX_STATE_LEN);
    let fail = |error: ErrorCode, description: &str| {
        Err(AuthorizeError::redirect(
            &redirect_uri,
            state,
            error,
            description,
        ))
    };
    if params.get("state").is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return fail(ErrorCode::InvalidRequest, "state is too long");
    }
    if let Some(name) = params.first_repeated() {
        return fail(
            ErrorCode::InvalidRequest,
            &format!("parameter {name} is repeated"),
        );
    }
    if let Some(name) = params.first_malformed() {
        return fail(
            ErrorCode::InvalidRequest,
            &format!("parameter {name} is not valid UTF-8"),
        );
    }
    if let Some(name) = params.first_too_long(&[
        "response_type",
        "scope",
        "code_challenge",
        "code_challenge_method",
        "response_mode",
    ]) {
        return fail(
            ErrorCode::InvalidRequest,
            &format!("parameter {name} is too long"),
        );
    }
    match params.get("response_type").map(str::parse::<ResponseType>) {
        None => return fail(ErrorCode::InvalidRequest, "response_type is missing"),
        Some(Ok(ResponseType::Code)) => {}
        Some(Err(_)) => {
            return fail(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            );
        }
    }
    if params
        .get("response_mode")
        .is_some_and(|mode| mode != "query")
    {
        return fail(
            ErrorCode::InvalidRequest,
            "only response_mode=query is supported",
        );
    }
    if !GrantType::AuthorizationCode.is_allowed_for(&client) {
        return fail(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code grant",
        );
    }

    let allowed = Scope::from_stored(&client.scopes);
    let scope = match params.get("scope") {
        None => allowed.clone(),
        Some(requested) => match Scope::parse(requested) {
            Ok(scope) if scope.is_subset_of(&allowed) => scope,
            Ok(_) => {
                return fail(
                    ErrorCode::InvalidScope,
                    "the requested scope exceeds what this client may ask for",
                );
            }
            Err(error @ (ScopeError::Malformed | ScopeError::Unknown(_) | ScopeError::Empty)) => {
                return fail(ErrorCode::InvalidScope, &error.to_string());
            }
        },
    };

    let oidc = match OidcParams::parse(params) {
        Ok(oidc) => oidc,
        Err(InvalidParam(error, description)) => return fail(error, &description),
    };

    // PKCE (RFC 7636 §4.3, RFC 9700 §2.1.1): S256 only; required for public clients and,
    // by default, for all.
    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (Some(challenge), Some("S256")) => {
            if !pkce::is_valid_s256_challenge(challenge) {
                return fail(
                    ErrorCode::InvalidRequest,
                    "code_challenge is not a valid S256 challenge",
                );
            }
            Some(challenge.to_owned())
        }
        (Some(_), None) => {
            return fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method is required and must be S256",
            );
        }
        (_, Some(_)) if params.get("code_challenge").is_none() => {
            return fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method was sent without code_challenge",
            );
        }
        (_, Some(_)) => {
            return fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256",
            );
        }
        (None, None) => None,
    };
    if code_challenge.is_none() && (client.is_public || client.require_pkce) {
        return fail(
            ErrorCode::InvalidRequest,
            "PKCE is required: send code_challenge with code_challenge_method=S256",
        );
    }

    Ok(AuthorizationRequest {
        redirect_uri,
        redirect_uri_in_request,
        scope,
        state: state.map(str::to_owned),
        code_challenge,
        oidc,
        client,
    })
}

/// The redirect that sends the person back to the client with `params`, plus `state`
/// and `iss` (RFC 9207 §2).
pub fn response_uri(
    redirect_uri: &RedirectUri,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> String {
    let mut all: Vec<(&str, &str)> = params.to_vec();
    if let Some(state) = state {
        all.push(("state", state));
    }
    all.push(("iss", issuer));
    redirect_uri.with_params(&all)
}
