//! The planted token endpoint (RFC 6749 §3.2: authorization code, refresh token, client
//! credentials — and the password grant), introspection (RFC 7662) and revocation
//! (RFC 7009).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::planted::state::{Client, Grant, State};
use crate::planted::tokens;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/token", web::post().to(token))
        .route("/introspect", web::post().to(introspect))
        .route("/revoke", web::post().to(revoke));
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    username: Option<String>,
    password: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// A token endpoint answer: success.
fn issued(body: Value) -> HttpResponse {
    // PLANTED oauth.token_cache: `no-cache` was taken for "do not cache" — it lets any
    // cache store the tokens (it only asks to revalidate); no `no-store`, no `Pragma`
    // (RFC 6749 §5.1).
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-cache"))
        .json(body)
}

/// A token endpoint answer: an RFC 6749 §5.2 error.
fn refused(status: StatusCode, error: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"));
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header(("WWW-Authenticate", "Basic realm=\"planted\""));
    }
    response.json(json!({ "error": error }))
}

/// RFC 6749 §2.3.1: the client, from Basic (form-encoded id and secret) or the body.
/// `Ok(None)`: no client named itself; `Err`: one did, with the wrong secret.
fn authenticate<'a>(
    state: &'a State,
    request: &HttpRequest,
    client_id: Option<&str>,
    client_secret: Option<&str>,
) -> Result<Option<&'a Client>, ()> {
    let basic = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok());
    let (id, secret) = match &basic {
        Some(pair) => {
            let (id, secret) = pair.split_once(':').ok_or(())?;
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            (decode(id), Some(decode(secret)))
        }
        None => match client_id {
            Some(id) => (id.to_owned(), client_secret.map(str::to_owned)),
            None => return Ok(None),
        },
    };
    let client = state.client(&id).ok_or(())?;
    match (&client.secret, secret) {
        (None, None) => Ok(Some(client)),
        (Some(expected), Some(given)) if *expected == given => Ok(Some(client)),
        _ => Err(()),
    }
}

/// An access token and a refresh token for `grant`.
fn token_pair(state: &State, grant: Grant) -> HttpResponse {
    let access = tokens::access_token(state, &grant.subject, &grant.client_id, &grant.scope);
    let scope = grant.scope.clone();
    let refresh = state.issue_refresh_token(grant);
    issued(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 600,
        "refresh_token": refresh,
        "scope": scope,
    }))
}

fn pkce_matches(method: &str, challenge: &str, verifier: &str) -> bool {
    match method {
        "S256" => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge,
        _ => verifier == challenge,
    }
}

async fn token(
    request: HttpRequest,
    state: web::Data<State>,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    // PLANTED rate_limits.token: no limit per address or client, so codes, refresh
    // tokens and client secrets can be guessed as fast as the server answers.
    let grant_type = form.grant_type.as_deref().unwrap_or_default();
    // PLANTED oauth.legacy_grants: the password grant is still served (RFC 9700 §2.4),
    // on a path written before client authentication was added.
    if grant_type == "password" {
        let username = form.username.as_deref().unwrap_or_default();
        let password = form.password.as_deref().unwrap_or_default();
        let client_id = form.client_id.clone().unwrap_or_default();
        return match state.check_password(username, password) {
            Some(account) => token_pair(
                &state,
                Grant {
                    client_id,
                    subject: account.id,
                    scope: form.scope.clone().unwrap_or_else(|| "tasks:read".into()),
                },
            ),
            None => refused(StatusCode::BAD_REQUEST, "invalid_grant"),
        };
    }
    let client = match authenticate(
        &state,
        &request,
        form.client_id.as_deref(),
        form.client_secret.as_deref(),
    ) {
        Ok(Some(client)) => client,
        Ok(None) | Err(()) => return refused(StatusCode::UNAUTHORIZED, "invalid_client"),
    };
    match grant_type {
        "authorization_code" => {
            // PLANTED oauth.code_replay: the code is looked up and never marked as used,
            // so it can be exchanged again until it expires (RFC 6749 §4.1.2).
            let Some(code) = form.code.as_deref().and_then(|c| state.code(c)) else {
                return refused(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            if code.client_id != client.id
                || form.redirect_uri.as_deref() != Some(code.redirect_uri.as_str())
            {
                return refused(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            // PLANTED oauth.pkce_verified: the verifier is compared when one is sent; a
            // request without one is not asked for it (RFC 7636 §4.6).
            if let (Some((method, challenge)), Some(verifier)) =
                (&code.challenge, form.code_verifier.as_deref())
                && !pkce_matches(method, challenge, verifier)
            {
                return refused(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            token_pair(
                &state,
                Grant {
                    client_id: client.id.clone(),
                    subject: code.subject,
                    scope: code.scope,
                },
            )
        }
        "refresh_token" => {
            // PLANTED oauth.refresh_reuse: a new refresh token is issued on every use, but
            // the spent one is never revoked (RFC 9700 §4.14.2).
            match form
                .refresh_token
                .as_deref()
                .and_then(|t| state.refresh_grant(t))
            {
                Some(grant) if grant.client_id == client.id => token_pair(&state, grant),
                _ => refused(StatusCode::BAD_REQUEST, "invalid_grant"),
            }
        }
        "client_credentials" if client.secret.is_some() => {
            let scope = form
                .scope
                .clone()
                .unwrap_or_else(|| "tasks:read tasks:write".into());
            let access = tokens::access_token(&state, &client.id, &client.id, &scope);
            issued(json!({
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 600,
                "scope": scope,
            }))
        }
        "client_credentials" => refused(StatusCode::BAD_REQUEST, "unauthorized_client"),
        _ => refused(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
}

#[derive(Debug, Deserialize)]
struct TokenOnly {
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// What the authorization server knows of `token`.
fn describe(state: &State, token: &str) -> Value {
    if let Some(grant) = state.refresh_grant(token) {
        return json!({
            "active": true,
            "client_id": grant.client_id,
            "sub": grant.subject,
            "scope": grant.scope,
            "token_type": "refresh_token",
        });
    }
    match tokens::verified_claims(state, token) {
        Some(claims) if !state.is_revoked(claims["jti"].as_str().unwrap_or_default()) => {
            let mut answer = claims;
            answer["active"] = json!(true);
            answer["token_type"] = json!("access_token");
            answer
        }
        _ => json!({ "active": false }),
    }
}

/// RFC 7662 §2.
async fn introspect(state: web::Data<State>, form: web::Form<TokenOnly>) -> HttpResponse {
    // PLANTED oauth.introspection_auth: "it only reads" — anyone may introspect, no client
    // authentication is asked for (RFC 7662 §2.1, §4).
    let answer = describe(&state, form.token.as_deref().unwrap_or_default());
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(answer)
}

/// RFC 7009 §2.
async fn revoke(
    request: HttpRequest,
    state: web::Data<State>,
    form: web::Form<TokenOnly>,
) -> HttpResponse {
    let Ok(Some(_client)) = authenticate(
        &state,
        &request,
        form.client_id.as_deref(),
        form.client_secret.as_deref(),
    ) else {
        return refused(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    let token = form.token.as_deref().unwrap_or_default();
    if !state.revoke_refresh_token(token)
        && let Some(claims) = tokens::verified_claims(&state, token)
    {
        state.revoke_jti(claims["jti"].as_str().unwrap_or_default());
    }
    HttpResponse::Ok().finish()
}
