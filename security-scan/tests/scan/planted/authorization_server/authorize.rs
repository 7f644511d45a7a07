//! The planted `/authorize` (RFC 6749 §4.1.1, §4.2.1): the client and its redirect URI are
//! checked, a visitor is sent to sign in, a signed-in person sees a consent page (with a
//! CSRF token) whose decision is posted back here, and the answer is a redirect to the
//! client with a code, an implicit-grant token, or an error.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::session::{self, PAGE_CSP};
use crate::planted::html::{self, escape, hidden};
use crate::planted::state::{Client, Code, State};
use crate::planted::tokens;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/authorize", web::get().to(authorize))
        .route("/authorize", web::post().to(decide));
}

#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseType {
    Code,
    Token,
}

/// A request whose client and redirect URI were accepted.
struct Accepted<'a> {
    client: &'a Client,
    redirect_uri: String,
    response_type: ResponseType,
    /// The CSP of every page and redirect this request gets.
    csp: String,
}

/// An error page of our own (the client or its redirect URI could not be trusted).
fn error_page(message: &str) -> HttpResponse {
    session::page_response(
        StatusCode::BAD_REQUEST,
        html::page("Cannot continue", &format!("<p>{}</p>", escape(message))),
    )
}

/// Whether `requested` is a redirect URI `client` registered.
fn accepts(client: &Client, requested: &str) -> bool {
    if client.is_loopback() {
        return loopback_matches(&client.redirect_uri, requested);
    }
    // PLANTED redirect_uri.https: "the registered URI, perhaps with more after it" —
    // `…/callback/extra`, `…/callback.evil.example`, `…/callback/../../x` and
    // `…/callback#x` all start with it.
    requested.starts_with(&client.redirect_uri)
}

/// RFC 8252 §7.3: a loopback redirect URI may name any port.
fn loopback_matches(registered: &str, requested: &str) -> bool {
    let registered_path = registered
        .strip_prefix("http://127.0.0.1")
        .unwrap_or_default();
    let Some(rest) = requested.strip_prefix("http://127.0.0.1") else {
        return false;
    };
    // PLANTED redirect_uri.loopback: the port is "whatever sits between the ':' and the
    // next '/'", split out of the string and never looked at; a browser reads
    // `http://127.0.0.1:@evil.example/callback` as the host evil.example.
    let path = match rest.strip_prefix(':') {
        Some(after_colon) => after_colon
            .split_once('/')
            .map(|(_port, path)| format!("/{path}")),
        None => Some(rest.to_owned()),
    };
    path.as_deref() == Some(registered_path)
}

/// The CSP of the consent flow: its form's answer is a redirect to the client, which
/// `form-action` must allow.
fn csp_for(redirect_uri: &str) -> String {
    // PLANTED redirect_uri.csp_injection: the client's origin is cut out of the requested
    // string ("scheme://" and up to the next '/') and pasted into the header, so a `;` in
    // it starts a directive of the requester's choosing.
    let source = redirect_uri
        .split_once("://")
        .map(|(scheme, rest)| format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)))
        .unwrap_or_default();
    format!("default-src 'self'; form-action 'self' {source}; frame-ancestors 'none'")
}

fn csp_header(csp: &str) -> HeaderValue {
    HeaderValue::from_str(csp).unwrap_or(HeaderValue::from_static(PAGE_CSP))
}

/// Checks the client and the redirect URI, then the rest; `Err` is the answer to send.
fn check<'a>(state: &'a State, params: &Params) -> Result<Accepted<'a>, HttpResponse> {
    let client_id = params.client_id.as_deref().unwrap_or_default();
    let Some(client) = state.client(client_id) else {
        // PLANTED redirect_uri.unknown_client: an unknown client's error is still sent
        // to whatever redirect_uri it gave (RFC 6749 §4.1.2.1 says never).
        return Err(match params.redirect_uri.as_deref() {
            Some(uri) if url::Url::parse(uri).is_ok() => redirect(
                uri,
                ResponseType::Code,
                &[("error", "unauthorized_client")],
                params.state.as_deref(),
                PAGE_CSP,
            ),
            _ => error_page("This app is not registered here."),
        });
    };
    let redirect_uri = match params.redirect_uri.as_deref() {
        None => client.redirect_uri.clone(),
        Some(uri) if accepts(client, uri) => uri.to_owned(),
        Some(_) => {
            return Err(error_page(
                "This redirect URI is not registered for the app.",
            ));
        }
    };
    let csp = csp_for(&redirect_uri);
    let refuse = |error: &str| {
        redirect(
            &redirect_uri,
            ResponseType::Code,
            &[("error", error)],
            params.state.as_deref(),
            &csp,
        )
    };
    let response_type = match params.response_type.as_deref() {
        Some("code") => ResponseType::Code,
        Some("token") if client.implicit => ResponseType::Token,
        _ => return Err(refuse("unsupported_response_type")),
    };
    // PLANTED oauth.pkce_plain: `plain` is accepted beside S256 (RFC 9700 §2.1.1: S256
    // only). PLANTED oauth.pkce_required: a request without code_challenge goes through
    // ("PKCE is for public clients").
    match params.code_challenge_method.as_deref() {
        None | Some("S256" | "plain") => {}
        Some(_) => return Err(refuse("invalid_request")),
    }
    Ok(Accepted {
        client,
        redirect_uri,
        response_type,
        csp,
    })
}

/// The redirect back to the client with `fields` and `state`.
fn redirect(
    redirect_uri: &str,
    response_type: ResponseType,
    fields: &[(&str, &str)],
    state: Option<&str>,
    csp: &str,
) -> HttpResponse {
    // PLANTED oauth.state_iss: the answer's parameters are pasted in as they are —
    // `state` unencoded, so `&`, `=` and `#` in it break the URI — and there is no `iss`
    // (RFC 9207 §2).
    let separator = match response_type {
        ResponseType::Token => '#',
        ResponseType::Code if redirect_uri.contains('?') => '&',
        ResponseType::Code => '?',
    };
    let mut location = format!("{redirect_uri}{separator}");
    let mut pairs: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if let Some(state) = state {
        pairs.push(format!("state={state}"));
    }
    location.push_str(&pairs.join("&"));
    match HeaderValue::from_str(&location) {
        Ok(location) => HttpResponse::SeeOther()
            .insert_header(("Location", location))
            .insert_header(("Content-Security-Policy", csp_header(csp)))
            .finish(),
        Err(_) => error_page("This redirect URI cannot be used."),
    }
}

async fn authorize(
    request: HttpRequest,
    state: web::Data<State>,
    params: web::Query<Params>,
) -> HttpResponse {
    let accepted = match check(&state, &params) {
        Ok(accepted) => accepted,
        Err(answer) => return answer,
    };
    let csp = csp_header(&accepted.csp);
    if session::signed_in(&request, &state).is_none() {
        let here = format!("/authorize?{}", request.query_string());
        let to: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
        return HttpResponse::SeeOther()
            .insert_header(("Location", format!("/login?return_to={to}")))
            .insert_header(("Content-Security-Policy", csp))
            .finish();
    }
    let (csrf, new_cookie) = session::csrf_token(&request);
    let body = html::page(
        "Allow access?",
        &format!(
            "<p>{} wants to use your tasks ({}).</p>\
             <form method=\"post\" action=\"/authorize\">{}{}\
             <button name=\"decision\" value=\"allow\">Allow</button>\
             <button name=\"decision\" value=\"deny\">Deny</button></form>",
            escape(&accepted.client.id),
            escape(params.scope.as_deref().unwrap_or("tasks:read")),
            hidden("csrf_token", &csrf),
            hidden("request", request.query_string()),
        ),
    );
    let mut response = HttpResponse::Ok();
    response
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Content-Security-Policy", csp));
    if let Some(cookie) = new_cookie {
        response.cookie(cookie);
    }
    response.body(body)
}

#[derive(Debug, Deserialize)]
struct Decision {
    csrf_token: Option<String>,
    request: String,
    decision: String,
}

/// The consent form's answer.
async fn decide(
    request: HttpRequest,
    state: web::Data<State>,
    form: web::Form<Decision>,
) -> HttpResponse {
    if !session::csrf_matches(&request, form.csrf_token.as_deref()) {
        return session::forbidden();
    }
    let Some(account) = session::signed_in(&request, &state) else {
        return session::see_other("/login");
    };
    let Ok(params) = web::Query::<Params>::from_query(&form.request) else {
        return error_page("The request was lost; start again.");
    };
    let accepted = match check(&state, &params) {
        Ok(accepted) => accepted,
        Err(answer) => return answer,
    };
    let respond = |fields: &[(&str, &str)]| {
        redirect(
            &accepted.redirect_uri,
            accepted.response_type,
            fields,
            params.state.as_deref(),
            &accepted.csp,
        )
    };
    if form.decision != "allow" {
        return respond(&[("error", "access_denied")]);
    }
    let scope = params
        .scope
        .clone()
        .unwrap_or_else(|| "tasks:read tasks:write".into());
    match accepted.response_type {
        ResponseType::Code => {
            let challenge = params.code_challenge.clone().map(|challenge| {
                let method = params.code_challenge_method.as_deref().unwrap_or("plain");
                (method.to_owned(), challenge)
            });
            let code = state.issue_code(Code {
                client_id: accepted.client.id.clone(),
                redirect_uri: accepted.redirect_uri.clone(),
                subject: account.id.clone(),
                scope,
                challenge,
            });
            respond(&[("code", &code)])
        }
        ResponseType::Token => {
            let token = tokens::access_token(&state, &account.id, &accepted.client.id, &scope);
            respond(&[
                ("access_token", &token),
                ("token_type", "Bearer"),
                ("expires_in", "600"),
            ])
        }
    }
}
