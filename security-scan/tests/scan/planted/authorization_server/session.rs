//! The planted authorization server's cookies — a session cookie set at sign-in, and a
//! double-submit CSRF cookie whose value every form must carry — and the headers of its
//! pages.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use crate::planted::state::{Account, State};
use crate::planted::values::random;

pub const SESSION_COOKIE: &str = "planted_session";
pub const CSRF_COOKIE: &str = "planted_csrf";

/// The page CSP when nothing needs adding to it.
pub const PAGE_CSP: &str = "default-src 'self'; frame-ancestors 'none'";

/// The signed-in person, if the session cookie names a live session.
pub fn signed_in(request: &HttpRequest, state: &State) -> Option<Account> {
    let cookie = request.cookie(SESSION_COOKIE)?;
    state.session_user(cookie.value())
}

/// The CSRF token of this browser: its cookie's, or a new one (with the cookie to set).
pub fn csrf_token(request: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    match request.cookie(CSRF_COOKIE) {
        Some(cookie) => (cookie.value().to_owned(), None),
        None => {
            let token = random("csrf_");
            (token.clone(), Some(cookie(CSRF_COOKIE, token)))
        }
    }
}

/// Whether the form's `csrf_token` matches this browser's cookie.
pub fn csrf_matches(request: &HttpRequest, field: Option<&str>) -> bool {
    match (request.cookie(CSRF_COOKIE), field) {
        (Some(cookie), Some(field)) => !field.is_empty() && cookie.value() == field,
        _ => false,
    }
}

/// The session cookie: `Secure`, `SameSite=Lax`, for the whole site.
pub fn session_cookie(value: String) -> Cookie<'static> {
    // PLANTED sessions.cookie_attributes: no HttpOnly — "the page's script reads it to
    // know whether someone is signed in" — so any script on a page (see the stored XSS)
    // can read the session id and send it away.
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .secure(true)
        .same_site(SameSite::Lax)
        .finish()
}

/// A `Secure`, `HttpOnly`, `SameSite=Lax` cookie for the whole site.
pub fn cookie(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish()
}

/// An HTML answer, not to be stored (RFC 9700 §4.16), with the page CSP.
pub fn page_response(status: StatusCode, html: String) -> HttpResponse {
    page_builder(status)
        .insert_header(("Cache-Control", "no-store"))
        .body(html)
}

/// The start of an HTML answer with the page CSP.
pub fn page_builder(status: StatusCode) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", PAGE_CSP));
    builder
}

/// `303 See Other` to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", location))
        .finish()
}

/// A 403 page for a refused form.
pub fn forbidden() -> HttpResponse {
    page_response(
        StatusCode::FORBIDDEN,
        crate::planted::html::page(
            "Refused",
            "<p>This form has expired. Go back and try again.</p>",
        ),
    )
}
