//! `/logout`: our own "Sign out" button (`POST` with the session's CSRF token), and OpenID
//! Connect RP-initiated logout (`GET`, or `POST` without a CSRF token; RP-Initiated Logout
//! 1.0 §2): an app's request is validated first (`oidc::logout`), then the session ends at
//! once if the request's `id_token_hint` proves it comes from this session, or after the
//! person confirms on our page. Either way every app of the session is told in the
//! background (back-channel logout), and the person goes to the app's registered
//! `post_logout_redirect_uri` (with `state`) or to our sign-in page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::authorize::{form_action_source, set_csp};
use super::{see_other, with_cookie};
use crate::accounts::sessions;
use crate::error::AppError;
use crate::oauth::params::Params;
use crate::oidc::logout::{self, LogoutRequest, LogoutRequestError};
use crate::state::AppState;
use crate::templates::{LogoutPage, render};
use crate::web::csrf;
use crate::web::session::CurrentUser;

/// Ends a session and tells the apps that follow it.
pub async fn end_session(state: &AppState, session_id: String) -> Result<(), AppError> {
    sessions::end(&state.db, session_id.clone()).await?;
    state
        .back_channel
        .session_ended(&state.db, state.keys.current(), session_id)
        .await?;
    Ok(())
}

fn pairs(query: &str) -> Result<Vec<(String, String)>, AppError> {
    web::Query::<Vec<(String, String)>>::from_query(query)
        .map(web::Query::into_inner)
        .map_err(|_| AppError::BadRequest("The sign-out request could not be read.".into()))
}

async fn validate(state: &AppState, params: &Params) -> Result<LogoutRequest, AppError> {
    let ring = state
        .keys
        .current()
        .ok_or_else(|| AppError::Unavailable("signing keys are not loaded yet".into()))?;
    logout::validate(&state.db, &ring, &state.settings.urls.issuer, params)
        .await
        .map_err(|error| match error {
            LogoutRequestError::Page(message) => AppError::BadRequest(message),
            LogoutRequestError::Unavailable(error) => AppError::from(error),
        })
}

fn signed_out(state: &AppState, location: &str) -> HttpResponse {
    let removal = state.cookies.removal(state.cookies.session_name);
    with_cookie(see_other(location), Some(removal))
}

/// An app's logout request (`query`: its parameters, as received).
async fn rp_initiated(
    state: &AppState,
    current: CurrentUser,
    query: &str,
) -> Result<HttpResponse, AppError> {
    let request = validate(state, &Params::new(pairs(query)?)).await?;
    let Some(signed_in) = current.0 else {
        // Nobody is signed in here: nothing to end.
        return Ok(see_other(&request.destination()));
    };
    if request.proves_session(&signed_in.session.id, &signed_in.user.id) {
        end_session(state, signed_in.session.id.clone()).await?;
        tracing::info!(target: "security", event = "session_ended", reason = "rp_initiated_logout");
        return Ok(signed_out(state, &request.destination()));
    }
    let page = LogoutPage {
        csrf_token: &signed_in.session.csrf_token,
        username: &signed_in.user.username,
        client_name: request.client.as_ref().map(|client| client.name.as_str()),
        redirect_host: request
            .post_logout_redirect_uri
            .as_ref()
            .map(|uri| uri.display_host()),
        request: query,
    };
    let mut response = render(StatusCode::OK, &page);
    if let Some(source) = request
        .post_logout_redirect_uri
        .as_ref()
        .and_then(form_action_source)
    {
        set_csp(&mut response, &source);
    }
    Ok(response)
}

/// `GET /logout`: RP-initiated logout.
pub async fn request(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    rp_initiated(&state, current, req.query_string()).await
}

/// `POST /logout`: our sign-out form or the confirmation page (with `csrf_token`, and for
/// the confirmation page the app's `request`), else an app's logout request.
pub async fn submit(
    state: web::Data<AppState>,
    body: web::Bytes,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let form = std::str::from_utf8(&body)
        .map_err(|_| AppError::BadRequest("The sign-out form could not be read.".into()))?;
    let params = Params::new(pairs(form)?);
    let Some(csrf_token) = params.get("csrf_token") else {
        return rp_initiated(&state, current, form).await;
    };
    let Some(signed_in) = current.0 else {
        return Ok(see_other("/login"));
    };
    csrf::verify_session(&signed_in.session.csrf_token, csrf_token)?;
    // The app's request is checked again: the page's hidden field is the person's input.
    let destination = match params.get("request") {
        Some(query) => validate(&state, &Params::new(pairs(query)?))
            .await?
            .destination(),
        None => "/login?signed_out=1".to_owned(),
    };
    end_session(&state, signed_in.session.id).await?;
    Ok(signed_out(&state, &destination))
}
