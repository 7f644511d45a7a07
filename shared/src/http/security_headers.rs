//! Security headers (SECURITY.md 6 and 29), added to every response that does not set
//! its own value.

use actix_web::middleware::DefaultHeaders;

/// Two years, with subdomains: the usual preload-ready HSTS value.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// No script at all, styles and images from this origin only, forms post back here,
/// and no framing (clickjacking, RFC 9700 §4.16).
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The page CSP with extra `form-action` sources: a page whose form leads, through
/// redirects, to a client's redirect URI must allow that URI's origin, or the browser
/// blocks the redirect.
pub fn page_csp_allowing_form_action(source: &str) -> String {
    PAGE_CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {source}"),
    )
}

/// For the task API: no sniffing, HSTS when served over https, and no caching — its
/// answers are one caller's data, and a shared cache must not hand them to another.
pub fn api_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Cache-Control", "no-store"));
    if https {
        headers.add(("Strict-Transport-Security", HSTS))
    } else {
        headers
    }
}

/// For servers of HTML pages (sign-in, consent): the API headers (no caching of pages
/// that may show personal data among them) plus a strict CSP, no framing and no referrer.
pub fn page_headers(https: bool) -> DefaultHeaders {
    api_headers(https)
        .add(("Content-Security-Policy", PAGE_CSP))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}
