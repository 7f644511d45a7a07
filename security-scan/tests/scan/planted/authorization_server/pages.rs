//! The planted sign-in, sign-up and account pages and sign-out. A session cookie is set
//! at sign-in; every form but one carries the CSRF token; the account page lists the
//! person's sessions.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::session::{self, SESSION_COOKIE};
use crate::planted::html::{self, escape, hidden};
use crate::planted::state::State;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/register", web::get().to(register_page))
        .route("/register", web::post().to(register))
        .route("/account", web::get().to(account))
        .route("/logout", web::post().to(logout));
}

#[derive(Debug, Deserialize)]
struct ReturnTo {
    return_to: Option<String>,
}

fn login_form(csrf: &str, return_to: &str, message: &str) -> String {
    html::page(
        "Sign in",
        &format!(
            "{message}<form method=\"post\" action=\"/login\">{}{}\
             <label>Username <input name=\"username\"></label>\
             <label>Password <input type=\"password\" name=\"password\"></label>\
             <button>Sign in</button></form>\
             <p><a href=\"/register\">Create an account</a></p>",
            hidden("csrf_token", csrf),
            hidden("return_to", return_to),
        ),
    )
}

async fn login_page(request: HttpRequest, query: web::Query<ReturnTo>) -> HttpResponse {
    let (csrf, new_cookie) = session::csrf_token(&request);
    let body = login_form(&csrf, query.return_to.as_deref().unwrap_or("/account"), "");
    // PLANTED headers.pages: the sign-in page was written before the page helper and
    // sets no Cache-Control, so a shared cache or the back button keeps it.
    let mut response = session::page_builder(StatusCode::OK);
    if let Some(cookie) = new_cookie {
        response.cookie(cookie);
    }
    response.body(body)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    csrf_token: Option<String>,
    username: String,
    password: String,
    return_to: Option<String>,
}

async fn login(
    request: HttpRequest,
    state: web::Data<State>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    if !session::csrf_matches(&request, form.csrf_token.as_deref()) {
        return session::forbidden();
    }
    // PLANTED sessions.lockout, sessions.slow_down, rate_limits.sign_in: failed sign-ins
    // are counted nowhere — no lock on the username, no delay for the address, no limit
    // on attempts ("the load balancer limits requests"; it does not).
    let Some(account) = state.check_password(&form.username, &form.password) else {
        let (csrf, _) = session::csrf_token(&request);
        // PLANTED injection.reflected_xss: the name typed is echoed into the page
        // unescaped.
        let message = format!(
            "<p class=\"error\">No account {} with that password.</p>",
            form.username
        );
        return session::page_response(
            StatusCode::UNAUTHORIZED,
            login_form(&csrf, form.return_to.as_deref().unwrap_or(""), &message),
        );
    };
    let return_to = form.return_to.as_deref().unwrap_or_default();
    // PLANTED redirect_uri.return_to: "a local path starts with a slash" — so does
    // `//evil.example/`, which a browser reads as another host.
    let to = if return_to.starts_with('/') {
        return_to
    } else {
        "/account"
    };
    let user_agent = request
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // PLANTED sessions.fixation: "the browser keeps the one cookie it has" — a session
    // id the browser already sends, issued here or not, becomes the signed-in session,
    // and no new one is set (an id must be renewed at every sign-in).
    let held = request
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty());
    let id = state.start_session(held.as_deref(), &account.username, user_agent);
    let mut response = from_header_block(&format!("Status: 303\r\nLocation: {to}\r\n"));
    if held.is_none() {
        response
            .add_cookie(&session::session_cookie(id))
            .expect("a valid cookie");
    }
    response
}

/// The answer of a header block as the sign-in CGI script printed it (`Status: 303`,
/// `Location: …`, one a line), kept when the sign-in moved here.
fn from_header_block(block: &str) -> HttpResponse {
    // PLANTED injection.header_crlf: the block is built with format! from return_to, so
    // a CR/LF in return_to ends the Location line, and what follows it is a header line
    // of the requester's.
    let mut response = HttpResponse::SeeOther();
    for line in block.lines().map(|l| l.trim_end_matches('\r')) {
        match line.split_once(':') {
            Some(("Status", _)) | None => {}
            Some((name, value)) => {
                response.append_header((name.trim(), value.trim()));
            }
        }
    }
    response.finish()
}

async fn register_page(request: HttpRequest) -> HttpResponse {
    let (csrf, new_cookie) = session::csrf_token(&request);
    let body = html::page(
        "Create an account",
        &format!(
            "<form method=\"post\" action=\"/register\">{}\
             <label>Username <input name=\"username\"></label>\
             <label>Email <input type=\"email\" name=\"email\"></label>\
             <label>Password <input type=\"password\" name=\"password\" \
             autocomplete=\"new-password\"></label>\
             <button>Create</button></form>",
            hidden("csrf_token", &csrf)
        ),
    );
    let mut response = session::page_response(StatusCode::OK, body);
    if let Some(cookie) = new_cookie {
        response.add_cookie(&cookie).expect("a valid cookie");
    }
    response
}

#[derive(Debug, Deserialize)]
struct RegisterForm {
    csrf_token: Option<String>,
    username: String,
    password: String,
}

async fn register(
    request: HttpRequest,
    state: web::Data<State>,
    form: web::Form<RegisterForm>,
) -> HttpResponse {
    if !session::csrf_matches(&request, form.csrf_token.as_deref()) {
        return session::forbidden();
    }
    if form.username.is_empty()
        || form.password.len() < 12
        || !state.create_account(&form.username, &form.password)
    {
        return session::page_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            html::page(
                "Create an account",
                "<p>Choose another name and a longer password.</p>",
            ),
        );
    }
    state.remember(&form.password);
    session::see_other("/login")
}

async fn account(request: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let Some(account) = session::signed_in(&request, &state) else {
        return session::see_other("/login?return_to=/account");
    };
    // PLANTED injection.stored_xss: each session's User-Agent, as the browser sent it at
    // sign-in, is written into the list unescaped ("it is only a browser name").
    let sessions: String = state
        .sessions_of(&account.username)
        .iter()
        .map(|s| format!("<li>{}</li>", s.user_agent))
        .collect();
    // PLANTED forms.csrf: the sign-out form carries no CSRF token (and /logout checks
    // none), so any site can sign a person out.
    let body = html::page(
        "Your account",
        &format!(
            "<p>Signed in as {}.</p><h2>Signed in on</h2><ul>{sessions}</ul>\
             <form method=\"post\" action=\"/logout\"><button>Sign out</button></form>",
            escape(&account.username)
        ),
    );
    session::page_response(StatusCode::OK, body)
}

async fn logout() -> HttpResponse {
    // PLANTED sessions.sign_out: signing out only tells the browser to drop the cookie;
    // the session lives on on the server, so a copied cookie still works.
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    HttpResponse::SeeOther()
        .insert_header(("Location", "/login"))
        .cookie(gone)
        .finish()
}
