//! The task API's rate limits (SECURITY.md 26): every request counts against its IP's
//! bucket before any work is done; an authenticated request also against its user's (see
//! `auth`, which leaves its verdict in the request). Health probes are exempt, sent around
//! the limiter before it allocates anything ([`is_exempt`]). A refusal is
//! a 429 problem with `Retry-After`; every answer carries the `RateLimit-*` headers of the
//! tighter limit.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError as _, web};
use shared::ratelimit::{self, Scope, Verdict};

use crate::problem::Problem;
use crate::state::ApiState;

/// The 429 answer of the task API (the headers are added by [`ratelimit::answer`]).
pub fn refusal(verdict: &Verdict) -> HttpResponse {
    Problem::TooManyRequests(verdict.retry_after_secs()).error_response()
}

/// Requests no limit applies to: the health probes. `ratelimit::exempting` sends them
/// around [`enforce`] before it allocates anything.
pub fn is_exempt(req: &ServiceRequest) -> bool {
    matches!(req.path(), "/healthz" | "/readyz" | "/api/health")
}

pub async fn enforce<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    // Decided before anything is cloned (the probes do not even get here: see `is_exempt`).
    let exempt = is_exempt(&req);
    let state = req
        .app_data::<web::Data<ApiState>>()
        .filter(|state| !exempt && state.limiter.enabled())
        .cloned();
    let Some(state) = state else {
        return ratelimit::pass(req, next).await;
    };
    let ip = shared::http::client_ip(req.request(), state.trust_proxy_headers)
        .unwrap_or_else(|| "unknown".to_owned());
    let verdict = state.limiter.check_ip(&ip, &[Scope::Ip]).await;
    ratelimit::answer(verdict, req, next, refusal).await
}
