//! CORS (SECURITY.md 27): which browser origins may read our answers. An allowlist of exact
//! origins (`CORS_ALLOWED_ORIGINS`), empty by default; never `*`, and no credentials mode,
//! since these endpoints take tokens and client credentials in headers and bodies, never
//! cookies. Preflights are answered only for an allowed origin, method and header set;
//! every other origin gets no `Access-Control-Allow-Origin`, so the browser withholds the
//! answer. The authorization endpoint and the HTML pages get no CORS at all.

use actix_cors::Cors;
use actix_web::http::{Method, header};
use actix_web::middleware::Condition;

/// How long a browser may reuse a preflight answer.
const PREFLIGHT_MAX_AGE_SECONDS: usize = 600;

/// The task API: every method it serves, with a Bearer token and a JSON body.
pub fn task_api(origins: &[String]) -> Condition<Cors> {
    policy(
        origins,
        &[
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ],
        &[header::LOCATION, header::WWW_AUTHENTICATE],
    )
}

/// An OAuth endpoint a browser app calls with `fetch` (RFC 8252-style public clients and
/// single-page apps): `/token` and `/revoke` (POST), the JWKS and metadata (GET).
pub fn oauth_endpoint(origins: &[String], method: Method) -> Condition<Cors> {
    policy(origins, &[method], &[header::WWW_AUTHENTICATE])
}

/// No middleware at all when no origin is allowed, so nothing changes on the hot path.
fn policy(
    origins: &[String],
    methods: &[Method],
    exposed: &[header::HeaderName],
) -> Condition<Cors> {
    let cors = origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(methods.to_vec())
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers(exposed.to_vec())
        .max_age(PREFLIGHT_MAX_AGE_SECONDS);
    Condition::new(!origins.is_empty(), cors)
}
