//! The task API's rate limits (SECURITY.md 26): every request counts against its IP's
//! bucket before any work is done; an authenticated request also against its user's (see
//! `auth`). Health probes are exempt. A refusal is a 429 problem with `Retry-After`; every
//! answer carries the `RateLimit-*` headers of the tightest limit that applied.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage as _, HttpResponse, ResponseError as _, web};
use shared::ratelimit::{self, Scope, Verdict};

use crate::problem::Problem;
use crate::state::ApiState;

/// The 429 answer of the task API.
pub fn refusal(verdict: &Verdict) -> HttpResponse {
    let mut response = Problem::TooManyRequests(verdict.retry_after_secs()).error_response();
    verdict.write_headers(response.headers_mut());
    response
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
    let ip = client_ip(&state, req.request());
    let verdict = state.limiter.check_ip(&ip, &[Scope::Ip]).await;
    let mut response = ratelimit::answer(verdict, req, next, refusal).await?;
    // When the request also counted against its user, the headers tell of whichever limit
    // has less room left.
    let user_verdict = response.request().extensions().get::<Verdict>().copied();
    if let (Some(Verdict::Allowed(Some(user))), Verdict::Allowed(ip)) = (user_verdict, verdict)
        && ip.is_none_or(|ip| user.remaining < ip.remaining)
    {
        Verdict::Allowed(Some(user)).write_headers(response.headers_mut());
    }
    Ok(response)
}

pub fn client_ip(state: &ApiState, req: &actix_web::HttpRequest) -> String {
    shared::http::client_ip(req, state.trust_proxy_headers).unwrap_or_else(|| "unknown".to_owned())
}
