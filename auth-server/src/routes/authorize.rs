//! `GET /authorize` (RFC 6749 §4.1.1) and `POST /authorize` (the consent decision).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use shared::http::security_headers::{CspSource, page_csp_allowing_form_action};
use shared::token::PlainToken;

use super::{see_other, two_factor_login};
use crate::accounts::sessions::SignedIn;
use crate::error::AppError;
use crate::oauth::authorize::{self, AuthorizationRequest, AuthorizeError};
use crate::oauth::codes::{self, Approval, QuickIssue};
use crate::oauth::consent::{self, ConsentQuestion};
use crate::oauth::error::ErrorCode;
use crate::oauth::params::Params;
use crate::oauth::redirect_uri::RedirectUri;
use crate::oauth::scope::Scope;
use crate::state::AppState;
use crate::templates::{ConsentPage, NoticePage, ScopeLine, render};
use crate::web::csrf;
use crate::web::return_to::{login_url, percent_encode};
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
        AuthorizeError::Redirect(answer) => {
            let error = answer.error.as_str();
            tracing::info!(event = "authorization_error", error, description = %answer.description);
            let location = authorize::response_uri(
                &answer.redirect_uri,
                &[("error", error), ("error_description", &answer.description)],
                answer.state.as_deref(),
                &state.settings.urls.issuer,
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

/// The CSP `form-action` source for a redirect URI, built from its parsed parts: its
/// origin (scheme, host, port), or its scheme for a private-use URI.
///
/// CSP's host-source grammar has no IPv6 literals, so browsers drop a source such as
/// `http://[::1]:8400` as invalid and then block the redirect (seen in Chromium). For an
/// IPv6 redirect URI (RFC 8252 §7.3) the page allows its scheme instead, the narrowest
/// source a browser will honour.
pub fn form_action_source(uri: &RedirectUri) -> Option<CspSource> {
    let url = uri.url();
    match url.host() {
        _ if !url.is_special() => CspSource::scheme(url.scheme()),
        Some(url::Host::Domain(domain)) => CspSource::host(url.scheme(), domain, url.port()),
        Some(url::Host::Ipv4(ip)) => CspSource::host(url.scheme(), &ip.to_string(), url.port()),
        Some(url::Host::Ipv6(_)) | None => CspSource::scheme(url.scheme()),
    }
}

/// For a sign-in page whose `return_to` continues an authorization request: the client's
/// redirect origin, which the page's forms must be allowed to reach through redirects.
pub async fn form_action_for_return_to(state: &AppState, return_to: &str) -> Option<CspSource> {
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

pub(super) fn set_csp(response: &mut HttpResponse, form_action_source: &CspSource) {
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
    let code = codes::issue(&state.db, &state.tokens, &approval(signed_in), request).await?;
    Ok(send_code(state, signed_in, request, &code, status))
}

/// The common case of a person returning to an app they allowed before, in one database
/// trip: the client as the cache holds it, then one transaction that confirms the client is
/// unchanged and nothing is to be asked, and stores the code. `None` when there is anything
/// to show, ask or refuse: that is decided by the full path, from the database.
async fn approve_without_asking(
    state: &AppState,
    signed_in: &SignedIn,
    params: &Params,
) -> Result<Option<HttpResponse>, AppError> {
    let Some(request) = authorize::validate_cached(&state.clients, params) else {
        return Ok(None);
    };
    if request
        .oidc
        .needs_fresh_login(signed_in.session.created_at, shared::models::now())
        || needs_verified_email(state, signed_in, &request)
        || needs_second_factor(state, signed_in, &request)
    {
        return Ok(None);
    }
    let approval = approval(signed_in);
    match codes::issue_if_nothing_to_ask(&state.db, &state.tokens, &approval, &request).await? {
        QuickIssue::Issued(code) => Ok(Some(send_code(
            state,
            signed_in,
            &request,
            &code,
            StatusCode::FOUND,
        ))),
        QuickIssue::ClientChanged => {
            state.clients.evict(&request.client.client_id);
            Ok(None)
        }
        QuickIssue::ConsentNeeded => Ok(None),
    }
}

/// The sign-in a code records: whose, which session, when, with what.
fn approval(signed_in: &SignedIn) -> Approval<'_> {
    Approval {
        user_id: &signed_in.user.id,
        session_id: &signed_in.session.id,
        auth_time: signed_in.session.created_at,
        second_factor: signed_in.session.second_factor_at.is_some(),
    }
}

/// The redirect back to the client with its code (RFC 6749 §4.1.2).
fn send_code(
    state: &AppState,
    signed_in: &SignedIn,
    request: &AuthorizationRequest,
    code: &PlainToken,
    status: StatusCode,
) -> HttpResponse {
    tracing::info!(event = "authorization_granted", client_id = %request.client.client_id, user_id = %signed_in.user.id, scope = %request.scope);
    let location = authorize::response_uri(
        &request.redirect_uri,
        &[("code", code.expose())],
        request.state.as_deref(),
        &state.settings.urls.issuer,
    );
    redirect(status, &location)
}

pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let params = parse(req.query_string())?;
    if let Some(signed_in) = &current.0
        && let Some(response) = approve_without_asking(&state, signed_in, &params).await?
    {
        return Ok(response);
    }
    let request = match authorize::validate(&state.db, &params).await {
        Ok(request) => request,
        Err(error) => return refusal(error, &state, StatusCode::FOUND),
    };
    state.clients.insert(&request.client);
    let this_request = format!("/authorize?{}", req.query_string());
    // OpenID Connect Core §3.1.2.1, `prompt=none`: no page; the client learns what the
    // person would have had to do.
    let prompt = request.oidc.prompt;
    let interaction_needed = |error: ErrorCode, description: &str| {
        refusal(
            AuthorizeError::redirect(
                &request.redirect_uri,
                request.state.as_deref(),
                error,
                description,
            ),
            &state,
            StatusCode::FOUND,
        )
    };
    let hint = request.oidc.login_hint.as_deref();
    let Some(signed_in) = current.0 else {
        if prompt.none {
            return interaction_needed(ErrorCode::LoginRequired, "the user is not signed in");
        }
        return Ok(see_other(&login_url_with_hint(&this_request, hint)));
    };
    // `prompt=login`, `max_age`: sign in again, then continue with the same request less
    // what asked for it (the new sign-in satisfies it; kept, it would ask forever).
    if request
        .oidc
        .needs_fresh_login(signed_in.session.created_at, shared::models::now())
    {
        if prompt.none {
            return interaction_needed(
                ErrorCode::LoginRequired,
                "the user's sign-in is older than max_age",
            );
        }
        let continue_with = format!("/authorize?{}", without_fresh_login(req.query_string())?);
        return Ok(see_other(&login_url_with_hint(&continue_with, hint)));
    }
    if needs_verified_email(&state, &signed_in, &request) {
        if prompt.none {
            return interaction_needed(
                ErrorCode::InteractionRequired,
                "the user's email address is not verified yet",
            );
        }
        return Ok(verify_email_first());
    }
    if needs_second_factor(&state, &signed_in, &request) {
        if prompt.none {
            return interaction_needed(
                ErrorCode::InteractionRequired,
                "the app requires a sign-in with the second factor",
            );
        }
        return Ok(see_other(&two_factor_login::step_up_url(&this_request)));
    }
    match consent::question(&state.db, &signed_in.user.id, &request).await? {
        ConsentQuestion::NotNeeded => {
            approve(&state, &signed_in, &request, StatusCode::FOUND).await
        }
        ConsentQuestion::Confirm if prompt.none => interaction_needed(
            ErrorCode::InteractionRequired,
            "the user must confirm on the authorization server's page",
        ),
        ConsentQuestion::Ask { .. } if prompt.none => interaction_needed(
            ErrorCode::ConsentRequired,
            "the user has not allowed this app the requested scope",
        ),
        ConsentQuestion::Confirm => Ok(consent_page(
            &signed_in,
            &request,
            ConsentMode::Confirm,
            req.query_string(),
            &this_request,
        )),
        ConsentQuestion::Ask { previously_allowed } => Ok(consent_page(
            &signed_in,
            &request,
            ConsentMode::Ask(previously_allowed.as_ref()),
            req.query_string(),
            &this_request,
        )),
    }
}

/// `clients create --require-mfa`, `REQUIRE_MFA`: the app waits until this session's person
/// has proven their second factor (step-up, or enrolment first).
fn needs_second_factor(
    state: &AppState,
    signed_in: &SignedIn,
    request: &AuthorizationRequest,
) -> bool {
    (state.settings.login.require_mfa || request.client.require_mfa)
        && signed_in.session.second_factor_at.is_none()
}

/// `REQUIRE_VERIFIED_EMAIL`: a third-party app waits until the person's address is proven.
fn needs_verified_email(
    state: &AppState,
    signed_in: &SignedIn,
    request: &AuthorizationRequest,
) -> bool {
    state.settings.mail.require_verified_email
        && !request.client.is_first_party
        && signed_in.user.email_verified_at.is_none()
}

fn verify_email_first() -> HttpResponse {
    render(
        StatusCode::FORBIDDEN,
        &NoticePage {
            title: "Verify your email address first",
            message: "Before you connect apps to your account, open the link we sent to your \
                      email address. Your account page can send it again.",
            link: "/account",
            link_text: "Go to your account",
        },
    )
}

/// `/login?return_to=…`, with the username prefilled from `login_hint` when there is one.
fn login_url_with_hint(return_to: &str, login_hint: Option<&str>) -> String {
    let mut url = login_url(return_to);
    if let Some(hint) = login_hint {
        url.push_str("&login_hint=");
        url.push_str(&percent_encode(hint));
    }
    url
}

/// The authorization request's query without `max_age` and without `login` (or
/// `select_account`) in `prompt`: what to continue with once the person has signed in again.
fn without_fresh_login(query: &str) -> Result<String, AppError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|_| AppError::BadRequest("The authorization request could not be read.".into()))?
        .into_inner();
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        match name.as_str() {
            "max_age" => {}
            "prompt" => {
                let kept: Vec<&str> = value
                    .split(' ')
                    .filter(|token| !matches!(*token, "login" | "select_account"))
                    .collect();
                if !kept.is_empty() {
                    serializer.append_pair(&name, &kept.join(" "));
                }
            }
            _ => {
                serializer.append_pair(&name, &value);
            }
        }
    }
    Ok(serializer.finish())
}

/// Which page the person sees: the full question, or one click to continue.
enum ConsentMode<'a> {
    Ask(Option<&'a Scope>),
    Confirm,
}

fn consent_page(
    signed_in: &SignedIn,
    request: &AuthorizationRequest,
    mode: ConsentMode<'_>,
    query: &str,
    this_request: &str,
) -> HttpResponse {
    let descriptions = request.scope.descriptions();
    let scopes = descriptions
        .iter()
        .map(|(name, description)| ScopeLine {
            name,
            description,
            already_allowed: match &mode {
                ConsentMode::Ask(previously_allowed) => {
                    previously_allowed.is_some_and(|allowed| allowed.contains(name))
                }
                ConsentMode::Confirm => false,
            },
        })
        .collect();
    let redirect_host = request.redirect_uri.display_host();
    let page = ConsentPage {
        csrf_token: &signed_in.session.csrf_token,
        client_name: &request.client.name,
        username: &signed_in.user.username,
        scopes,
        request: query,
        redirect_host: &redirect_host,
        switch_account_url: &login_url(this_request),
        confirm_only: matches!(mode, ConsentMode::Confirm),
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
        "allow" if needs_verified_email(&state, &signed_in, &request) => Ok(verify_email_first()),
        "allow" if needs_second_factor(&state, &signed_in, &request) => Ok(see_other(
            &two_factor_login::step_up_url(&format!("/authorize?{query}")),
        )),
        "allow" => {
            consent::remember(&state.db, &signed_in.user.id, &request).await?;
            approve(&state, &signed_in, &request, StatusCode::SEE_OTHER).await
        }
        "deny" => {
            tracing::info!(event = "authorization_denied", client_id = %request.client.client_id, user_id = %signed_in.user.id);
            refusal(
                AuthorizeError::redirect(
                    &request.redirect_uri,
                    request.state.as_deref(),
                    ErrorCode::AccessDenied,
                    "the user denied the request",
                ),
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
    use crate::oauth::redirect_uri::RedirectUri;

    #[test]
    fn form_action_sources_are_ones_browsers_accept() {
        for (uri, source) in [
            ("https://app.example.com/cb?x=1", "https://app.example.com"),
            (
                "https://app.example.com:8443/cb",
                "https://app.example.com:8443",
            ),
            ("http://127.0.0.1:8400/cb", "http://127.0.0.1:8400"),
            ("http://127.0.0.1/cb", "http://127.0.0.1"),
            ("http://[::1]:8400/cb", "http:"),
            ("com.example.app:/oauth2redirect", "com.example.app:"),
            ("com.example.app://callback/x", "com.example.app:"),
        ] {
            let uri = RedirectUri::parse_registered(uri).expect("valid");
            assert_eq!(
                form_action_source(&uri).as_ref().map(|s| s.as_str()),
                Some(source),
                "{uri:?}"
            );
        }
    }

    #[test]
    fn a_fresh_sign_in_continues_without_what_asked_for_it() {
        assert_eq!(
            super::without_fresh_login("client_id=c&prompt=login+consent&max_age=0&state=a%20b")
                .unwrap(),
            "client_id=c&prompt=consent&state=a+b"
        );
        assert_eq!(
            super::without_fresh_login("prompt=select_account&nonce=n").unwrap(),
            "nonce=n"
        );
    }
}
