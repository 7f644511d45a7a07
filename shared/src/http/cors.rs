//! CORS (SECURITY.md 27): which browser origins may read our answers. An allowlist of exact
//! origins (`CORS_ALLOWED_ORIGINS`), empty by default; never `*`, and no credentials mode,
//! since these endpoints take tokens and client credentials in headers and bodies, never
//! cookies. Preflights are answered only for an allowed origin, method and header set;
//! every other origin gets no `Access-Control-Allow-Origin`, so the browser withholds the
//! answer. The authorization endpoint and the HTML pages get no CORS at all.

use actix_cors::Cors;
use actix_web::http::{Method, header};
use actix_web::middleware::Condition;

/// The auth-server endpoints that answer CORS (the task API answers it everywhere).
pub const BROWSER_ENDPOINTS: [&str; 4] = [
    "/token",
    "/revoke",
    "/jwks.json",
    "/.well-known/oauth-authorization-server",
];

/// Headers a browser app may read besides the safelisted ones.
const EXPOSED_EVERYWHERE: [header::HeaderName; 5] = [
    header::WWW_AUTHENTICATE,
    header::RETRY_AFTER,
    header::HeaderName::from_static("ratelimit-limit"),
    header::HeaderName::from_static("ratelimit-remaining"),
    header::HeaderName::from_static("ratelimit-reset"),
];

/// For an answer given outside the CORS middleware (a rate-limit refusal): grants `origin`
/// if it is allowed, as the middleware would have.
pub fn allow_origin(
    origins: &[String],
    origin: Option<&header::HeaderValue>,
    headers: &mut header::HeaderMap,
) {
    let Some(origin) = origin else { return };
    if origins
        .iter()
        .any(|allowed| allowed.as_bytes() == origin.as_bytes())
    {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            header::HeaderValue::from_static(
                "www-authenticate, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset",
            ),
        );
        headers.append(header::VARY, header::HeaderValue::from_static("Origin"));
    }
}

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
        &[header::LOCATION],
    )
}

/// An OAuth endpoint a browser app calls with `fetch` (RFC 8252-style public clients and
/// single-page apps): `/token` and `/revoke` (POST), the JWKS and metadata (GET).
pub fn oauth_endpoint(origins: &[String], method: Method) -> Condition<Cors> {
    policy(origins, &[method], &[])
}

/// The same for an endpoint of several methods: OpenID Connect userinfo (GET and POST).
pub fn oauth_endpoints(origins: &[String], methods: &[Method]) -> Condition<Cors> {
    policy(origins, methods, &[])
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
        .expose_headers(exposed.iter().chain(&EXPOSED_EVERYWHERE).cloned())
        .max_age(PREFLIGHT_MAX_AGE_SECONDS);
    Condition::new(!origins.is_empty(), cors)
}
