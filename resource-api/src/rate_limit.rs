//! The task API's rate limits (SECURITY.md 26): every request counts against its IP's
//! bucket before any work is done; an authenticated request also against its user's (see
//! `auth`, which leaves its verdict in the request). Health probes are exempt. A refusal is
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

pub async fn enforce<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let state = req.app_data::<web::Data<ApiState>>().cloned();
    let exempt = matches!(req.path(), "/healthz" | "/readyz" | "/api/health");
    let Some(state) = state.filter(|state| state.limiter.enabled() && !exempt) else {
        return ratelimit::pass(req, next).await;
    };
    let ip = shared::http::client_ip(req.request(), state.trust_proxy_headers)
        .unwrap_or_else(|| "unknown".to_owned());
    let verdict = state.limiter.check_ip(&ip, &[Scope::Ip]).await;
    ratelimit::answer(verdict, req, next, refusal).await
}
