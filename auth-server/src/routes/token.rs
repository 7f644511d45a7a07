//! `POST /token` (RFC 6749 §3.2, §4.1.3): client authentication, then the grant.
//! Every answer is JSON with `Cache-Control: no-store` (RFC 6749 §5.1, §5.2).

use actix_web::error::{InternalError, UrlencodedError};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::oauth::clients::{self, GRANT_AUTHORIZATION_CODE};
use crate::oauth::codes::{self, CodeExchange};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::{MAX_VALUE_LEN, Params};
use crate::state::AppState;
use shared::token::PlainToken;

const TOKEN_FORM_LIMIT: usize = 16 * 1024;

/// Malformed bodies get RFC 6749 JSON errors, never an HTML page.
pub fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(TOKEN_FORM_LIMIT)
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

pub async fn exchange(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuthError> {
    let params = Params::new(form.into_inner());
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
    let client = clients::authenticate(&state.db, credentials).await?;

    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
    let response = match grant_type {
        GRANT_AUTHORIZATION_CODE => {
            if !client.allows_grant_type(GRANT_AUTHORIZATION_CODE) {
                return Err(OAuthError::new(
                    ErrorCode::UnauthorizedClient,
                    "this client may not use this grant type",
                ));
            }
            let code = params
                .get("code")
                .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
            let ring = state.keys.current().ok_or_else(|| {
                OAuthError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "signing keys are not loaded yet",
                )
            })?;
            codes::exchange(
                &state.db,
                ring,
                state.tokens.clone(),
                client,
                CodeExchange {
                    code: PlainToken::from_client(code),
                    redirect_uri: params.get("redirect_uri").map(str::to_owned),
                    code_verifier: params.get("code_verifier").map(str::to_owned),
                },
            )
            .await?
        }
        _ => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "supported grant types: authorization_code",
            ));
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(response))
}
