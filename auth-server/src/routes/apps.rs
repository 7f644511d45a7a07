//! `GET /account/apps` (the apps a person allowed) and
//! `POST /account/apps/{client_id}/revoke` (take one's access away).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::see_other;
use crate::error::AppError;
use crate::oauth::consent;
use crate::state::AppState;
use crate::templates::{AppRow, AppsPage, render};
use crate::web::csrf;
use crate::web::return_to::login_url;
use crate::web::session::CurrentUser;

#[derive(Debug, Deserialize)]
pub struct AppsQuery {
    revoked: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeForm {
    csrf_token: String,
}

pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<AppsQuery>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url("/account/apps")));
    };
    let apps = consent::granted_apps(&state.db, signed_in.user.id.clone())
        .await?
        .into_iter()
        .map(|app| AppRow {
            scopes: app
                .scope
                .descriptions()
                .into_iter()
                .map(|(_, sentence)| sentence)
                .collect(),
            since: app.granted_at.format("%Y-%m-%d").to_string(),
            client_id: app.client_id,
            name: app.name,
        })
        .collect();
    let page = AppsPage {
        csrf_token: &signed_in.session.csrf_token,
        apps,
        notice: query
            .revoked
            .is_some()
            .then_some("The app's access has been revoked."),
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn revoke(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<RevokeForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url("/account/apps")));
    };
    csrf::verify_session(&signed_in.session.csrf_token, &form.csrf_token)?;
    if !consent::revoke_app(
        &state.db,
        &state.audit,
        signed_in.user.id,
        path.into_inner(),
    )
    .await?
    {
        return Err(AppError::NotFound);
    }
    Ok(see_other("/account/apps?revoked=1"))
}
