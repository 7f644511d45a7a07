//! `GET/POST /account/api-keys` (list, create — the new key shown once) and
//! `POST /account/api-keys/{id}/revoke`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use shared::models::api_key::ApiKey;
use shared::models::now;

use super::see_other;
use crate::accounts::api_keys::{self, NewApiKey};
use crate::accounts::sessions::SignedIn;
use crate::error::AppError;
use crate::state::AppState;
use crate::templates::{ApiKeyRow, ApiKeysPage, render};
use crate::web::csrf;
use crate::web::return_to::login_url;
use crate::web::session::CurrentUser;

#[derive(Debug, Deserialize)]
pub struct KeysQuery {
    revoked: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateForm {
    csrf_token: String,
    name: String,
    read: Option<String>,
    write: Option<String>,
    expires_in_days: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeForm {
    csrf_token: String,
}

fn rows(keys: Vec<ApiKey>) -> Vec<ApiKeyRow> {
    let at = now();
    keys.into_iter()
        .map(|key| {
            let state = if key.revoked_at.is_some() {
                "revoked"
            } else if key.expires_at <= at {
                "expired"
            } else {
                ""
            };
            ApiKeyRow {
                active: state.is_empty(),
                state,
                expires: key.expires_at.format("%Y-%m-%d").to_string(),
                last_used: key.last_used_at.map_or_else(
                    || "never".to_owned(),
                    |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
                ),
                scopes: key.scopes,
                prefix: key.prefix,
                name: key.name,
                id: key.id,
            }
        })
        .collect()
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    new_key: Option<(&str, &str)>,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let keys = api_keys::list(&state.db, signed_in.user.id.clone()).await?;
    Ok(render(
        status,
        &ApiKeysPage {
            csrf_token: &signed_in.session.csrf_token,
            keys: rows(keys),
            new_key: new_key.map(|(_, key)| key),
            new_key_name: new_key.map_or("", |(name, _)| name),
            notice,
            error,
        },
    ))
}

pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<KeysQuery>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url("/account/api-keys")));
    };
    let notice = query
        .revoked
        .is_some()
        .then_some("The key has been revoked; it stops working at once.");
    page(&state, &signed_in, StatusCode::OK, None, notice, None).await
}

pub async fn create(
    state: web::Data<AppState>,
    form: web::Form<CreateForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url("/account/api-keys")));
    };
    let form = form.into_inner();
    csrf::verify_session(&signed_in.session.csrf_token, &form.csrf_token)?;
    let scope: Vec<&str> = [
        (form.read.is_some(), "tasks:read"),
        (form.write.is_some(), "tasks:write"),
    ]
    .iter()
    .filter(|(chosen, _)| *chosen)
    .map(|(_, scope)| *scope)
    .collect();
    let new = NewApiKey {
        name: form.name,
        scope: scope.join(" "),
        expires_in_days: form.expires_in_days.trim().parse().unwrap_or(0),
    };
    match api_keys::create(&state.db, signed_in.user.id.clone(), new).await? {
        Ok((row, key)) => {
            page(
                &state,
                &signed_in,
                StatusCode::CREATED,
                Some((&row.name, key.expose())),
                None,
                None,
            )
            .await
        }
        Err(message) => {
            page(
                &state,
                &signed_in,
                StatusCode::BAD_REQUEST,
                None,
                None,
                Some(&message),
            )
            .await
        }
    }
}

pub async fn revoke(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<RevokeForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url("/account/api-keys")));
    };
    csrf::verify_session(&signed_in.session.csrf_token, &form.csrf_token)?;
    if !api_keys::revoke(&state.db, signed_in.user.id, path.into_inner()).await? {
        return Err(AppError::NotFound);
    }
    Ok(see_other("/account/api-keys?revoked=1"))
}
