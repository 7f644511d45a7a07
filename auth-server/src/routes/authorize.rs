//! `GET /authorize` (RFC 6749 §4.1.1) and `POST /authorize` (the consent decision).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use shared::http::security_headers::page_csp_allowing_form_action;

use super::see_other;
use crate::accounts::sessions::SignedIn;
use crate::error::AppError;
use crate::oauth::authorize::{self, AuthorizationRequest, AuthorizeError};
use crate::oauth::error::ErrorCode;
use crate::oauth::params::Params;
use crate::oauth::scope::Scope;
use crate::oauth::{codes, consent, redirect_uri};
use crate::state::AppState;
use crate::templates::{ConsentPage, ScopeLine, render};
use crate::web::csrf;
use crate::web::return_to::login_url;
use crate::web::session::CurrentUser;

/// The consent form's fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionForm {
    csrf_token: String,
    /// The authorization request's query string, as received by `GET /authorize`.
    request: String,
    decision: String,
}

fn parse(query: &str) -> Result<Params, AppError> {
    web::Query::<Vec<(String, String)>>::from_query(query)
        .map(|pairs| Params::new(pairs.into_inner()))
        .map_err(|_| AppError::BadRequest("The authorization request could not be read (its parameters are not valid URL encoding).".into()))
}

/// Turns a refused request into what the person sees: our page, or a redirect to the client.
fn refusal(
    error: AuthorizeError,
    state: &AppState,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    match error {
        AuthorizeError::Page(message) => Err(AppError::BadRequest(message)),
        AuthorizeError::Unavailable(error) => Err(AppError::Unavailable(error.to_string())),
        AuthorizeError::Redirect {
            redirect_uri,
            state: client_state,
            error,
            description,
        } => {
            tracing::info!(event = "authorization_error", error = error.as_str(), description = %description);
            let location = authorize::response_uri(
                &redirect_uri,
                &[
                    ("error", error.as_str()),
                    ("error_description", &description),
                ],
                client_state.as_deref(),
                &state.settings.issuer,
            );
            Ok(redirect(status, &location))
        }
    }
}

fn redirect(status: StatusCode, location: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}

/// The CSP `form-action` source for a redirect URI: its origin, or its private-use scheme.
///
/// CSP's host-source grammar has no IPv6 literals, so browsers drop a source such as
/// `http://[::1]:8400` as invalid and then block the redirect (seen in Chromium). For an
/// IPv6 loopback redirect URI (RFC 8252 §7.3) the page allows its scheme instead, the
/// narrowest source a browser will honour.
pub fn form_action_source(uri: &str) -> Option<String> {
    match redirect_uri::origin(uri) {
        Some(origin) if origin.contains("://[") => origin
            .split_once("://")
            .map(|(scheme, _)| format!("{scheme}:")),
        Some(origin) => Some(origin),
        None => {
            let (scheme, _) = uri.split_once(':')?;
            Some(format!("{scheme}:"))
        }
    }
}

/// For a sign-in page whose `return_to` continues an authorization request: the client's
/// redirect origin, which the page's forms must be allowed to reach through redirects.
pub async fn form_action_for_return_to(state: &AppState, return_to: &str) -> Option<String> {
    let query = return_to.strip_prefix("/authorize?")?;
    let params = parse(query).ok()?;
    let request = authorize::validate(&state.db, &params).await.ok()?;
    form_action_source(&request.redirect_uri)
}

/// Adds the client's redirect origin to a sign-in or sign-up page's `form-action`, when the
/// page continues an authorization request (its form leads, through redirects, there).
pub async fn with_flow_csp(
    state: &AppState,
    return_to: &str,
    mut response: HttpResponse,
) -> HttpResponse {
    if let Some(source) = form_action_for_return_to(state, return_to).await {
        set_csp(&mut response, &source);
    }
    response
}

fn set_csp(response: &mut HttpResponse, form_action_source: &str) {
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(
        &page_csp_allowing_form_action(form_action_source),
    ) {
        response
            .headers_mut()
            .insert(actix_web::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Issues the code and sends the person back to the client.
async fn approve(
    state: &AppState,
    signed_in: &SignedIn,
    request: &AuthorizationRequest,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let code = codes::issue(&state.db, &state.tokens, &signed_in.user.id, request).await?;
    tracing::info!(event = "authorization_granted", client_id = %request.client.client_id, user_id = %signed_in.user.id, scope = %request.scope);
    let location = authorize::response_uri(
        &request.redirect_uri,
        &[("code", code.expose())],
        request.state.as_deref(),
        &state.settings.issuer,
    );
    Ok(redirect(status, &location))
}

pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let params = parse(req.query_string())?;
    let request = match authorize::validate(&state.db, &params).await {
        Ok(request) => request,
        Err(error) => return refusal(error, &state, StatusCode::FOUND),
    };
    let this_request = format!("/authorize?{}", req.query_string());
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url(&this_request)));
    };
    match consent::question(&state.db, &signed_in.user.id, &request).await? {
        None => approve(&state, &signed_in, &request, StatusCode::FOUND).await,
        Some(question) => Ok(consent_page(
            &signed_in,
            &request,
            question.previously_allowed.as_ref(),
            req.query_string(),
            &this_request,
        )),
    }
}

fn consent_page(
    signed_in: &SignedIn,
    request: &AuthorizationRequest,
    previously_allowed: Option<&Scope>,
    query: &str,
    this_request: &str,
) -> HttpResponse {
    let descriptions = request.scope.descriptions();
    let scopes = descriptions
        .iter()
        .map(|(name, description)| ScopeLine {
            name,
            description,
            already_allowed: previously_allowed.is_some_and(|allowed| allowed.contains(name)),
        })
        .collect();
    let redirect_host = redirect_uri::origin(&request.redirect_uri)
        .map(|origin| {
            origin
                .split_once("://")
                .map_or(origin.clone(), |(_, host)| host.to_owned())
        })
        .unwrap_or_else(|| request.redirect_uri.clone());
    let page = ConsentPage {
        csrf_token: &signed_in.session.csrf_token,
        client_name: &request.client.name,
        username: &signed_in.user.username,
        scopes,
        request: query,
        redirect_host: &redirect_host,
        switch_account_url: &login_url(this_request),
    };
    let mut response = render(StatusCode::OK, &page);
    if let Some(source) = form_action_source(&request.redirect_uri) {
        set_csp(&mut response, &source);
    }
    response
}

pub async fn decide(
    state: web::Data<AppState>,
    form: web::Form<DecisionForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let DecisionForm {
        csrf_token,
        request: query,
        decision,
    } = form.into_inner();
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url(&format!("/authorize?{query}"))));
    };
    csrf::verify_session(&signed_in.session.csrf_token, &csrf_token)?;
    let params = parse(&query)?;
    let request = match authorize::validate(&state.db, &params).await {
        Ok(request) => request,
        Err(error) => return refusal(error, &state, StatusCode::SEE_OTHER),
    };
    match decision.as_str() {
        "allow" => {
            consent::remember(&state.db, &signed_in.user.id, &request).await?;
            approve(&state, &signed_in, &request, StatusCode::SEE_OTHER).await
        }
        "deny" => {
            tracing::info!(event = "authorization_denied", client_id = %request.client.client_id, user_id = %signed_in.user.id);
            refusal(
                AuthorizeError::Redirect {
                    redirect_uri: request.redirect_uri,
                    state: request.state,
                    error: ErrorCode::AccessDenied,
                    description: "the user denied the request".into(),
                },
                &state,
                StatusCode::SEE_OTHER,
            )
        }
        _ => Err(AppError::BadRequest(
            "The decision must be Allow or Deny.".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::form_action_source;

    #[test]
    fn form_action_sources_are_ones_browsers_accept() {
        for (uri, source) in [
            ("https://app.example.com/cb?x=1", "https://app.example.com"),
            ("http://127.0.0.1:8400/cb", "http://127.0.0.1:8400"),
            ("http://[::1]:8400/cb", "http:"),
            ("com.example.app:/oauth2redirect", "com.example.app:"),
        ] {
            assert_eq!(form_action_source(uri).as_deref(), Some(source), "{uri}");
        }
    }
}
