//! The auth-server's rate limits (SECURITY.md 26): every request counts against its IP's
//! bucket; sign-in, sign-up, `/authorize` and the token endpoints against a stricter one
//! too. Health probes are exempt: [`is_exempt`] sends them around the limiter before
//! it allocates anything (`ratelimit::exempting`). A refusal is a 429 page, or an OAuth JSON error on the
//! token endpoints, with `Retry-After`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::ORIGIN;
use actix_web::middleware::Next;
use actix_web::{ResponseError as _, web};
use shared::http::cors;
use shared::ratelimit::{self, Scope};

use crate::error::AppError;
use crate::state::AppState;
use crate::web::oauth_error::rate_limited;

/// Endpoints that answer in JSON (RFC 6749 §5.2), where a page would be no use.
const TOKEN_ENDPOINTS: [&str; 3] = ["/token", "/revoke", "/introspect"];

/// The stricter limit a request falls under, if any.
fn scope_of(method: &Method, path: &str) -> Option<Scope> {
    match (method, path) {
        // Every form that checks a password or a second-factor code, or sends a reset
        // link, counts as a sign-in.
        (
            &Method::POST,
            "/login"
            | "/login/two-factor"
            | "/forgot-password"
            | "/reset-password"
            | "/account/password"
            | "/account/delete"
            | "/account/two-factor"
            | "/account/two-factor/recovery-codes"
            | "/account/two-factor/disable",
        ) => Some(Scope::Login),
        // Sending mail (sign-up sends a verification link) counts as a sign-up.
        (&Method::POST, "/register" | "/account/email/verification") => Some(Scope::Register),
        (_, "/authorize") => Some(Scope::Authorize),
        (&Method::POST, path) if TOKEN_ENDPOINTS.contains(&path) => Some(Scope::Token),
        _ => None,
    }
}

/// Paths no limit applies to: the health probes.
fn is_exempt_path(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// Requests no limit applies to, which `ratelimit::exempting` sends around [`enforce`]
/// (the path as the router matches it, percent-decoded).
pub fn is_exempt(req: &ServiceRequest) -> bool {
    is_exempt_path(req.match_info().as_str())
}

pub async fn enforce<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    // The path as the router will match it (percent-decoded), so `/%6Cogin` is `/login`.
    // Everything is decided from it here, before anything is allocated or cloned.
    let path = req.match_info().as_str();
    let exempt = is_exempt_path(path);
    let scope = scope_of(req.method(), path);
    let json_refusal = TOKEN_ENDPOINTS.contains(&path);
    let cors_refusal = cors::BROWSER_ENDPOINTS.contains(&path);
    let state = req
        .app_data::<web::Data<AppState>>()
        .filter(|state| !exempt && state.limiter.enabled())
        .cloned();
    let Some(state) = state else {
        return ratelimit::pass(req, next).await;
    };
    let ip = shared::http::client_ip(req.request(), state.settings.http.trust_proxy_headers)
        .unwrap_or_else(|| "unknown".to_owned());
    let mut scopes = vec![Scope::Ip];
    scopes.extend(scope);
    let verdict = state.limiter.check_ip(&ip, &scopes).await;
    let origin = req.headers().get(ORIGIN).cloned();
    let cors_origins = &state.settings.http.cors_allowed_origins;
    ratelimit::answer(verdict, req, next, |verdict| {
        let mut response = if json_refusal {
            rate_limited(verdict)
        } else {
            AppError::TooManyRequests(verdict.retry_after_secs()).error_response()
        };
        // The endpoints browser apps call answer this refusal with CORS too, or the app
        // could not read it (the CORS middleware sits inside this one).
        if cors_refusal {
            cors::allow_origin(cors_origins, origin.as_ref(), response.headers_mut());
        }
        response
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stricter_limits_cover_the_abused_endpoints() {
        assert_eq!(scope_of(&Method::POST, "/login"), Some(Scope::Login));
        assert_eq!(
            scope_of(&Method::GET, "/login"),
            None,
            "showing the form is cheap"
        );
        assert_eq!(scope_of(&Method::POST, "/register"), Some(Scope::Register));
        for path in [
            "/forgot-password",
            "/reset-password",
            "/account/password",
            "/login/two-factor",
            "/account/two-factor",
            "/account/two-factor/disable",
        ] {
            assert_eq!(scope_of(&Method::POST, path), Some(Scope::Login), "{path}");
        }
        assert_eq!(
            scope_of(&Method::POST, "/account/email/verification"),
            Some(Scope::Register)
        );
        assert_eq!(scope_of(&Method::GET, "/authorize"), Some(Scope::Authorize));
        assert_eq!(
            scope_of(&Method::POST, "/authorize"),
            Some(Scope::Authorize)
        );
        for path in TOKEN_ENDPOINTS {
            assert_eq!(scope_of(&Method::POST, path), Some(Scope::Token));
        }
        assert_eq!(scope_of(&Method::GET, "/account"), None);
    }

    #[test]
    fn only_the_health_probes_are_exempt() {
        assert!(is_exempt_path("/healthz"));
        assert!(is_exempt_path("/readyz"));
        for path in ["/login", "/token", "/healthz/", "/readyz.json", "/"] {
            assert!(!is_exempt_path(path), "{path}");
        }
    }
}
