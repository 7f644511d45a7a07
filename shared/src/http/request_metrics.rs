//! Counts every answered request in [`crate::metrics`]: by route template (never the path,
//! which could hold an id or be anything a scanner sends), method and status, with its
//! latency. Mounted outermost, so refusals by the rate limiter are counted too.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

/// The answer of the rest of the app to one request.
type Answer<B> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>>>,
>;

/// The middleware for `server`: `.wrap(from_fn(request_metrics::counting("auth-server")))`.
pub fn counting<B: MessageBody + 'static>(
    server: &'static str,
) -> impl Fn(ServiceRequest, Next<B>) -> Answer<B> + Clone + 'static {
    move |request: ServiceRequest, next: Next<B>| {
        Box::pin(async move {
            let started = Instant::now();
            let route = request.match_pattern();
            let method = method_label(request.method());
            let outcome = next.call(request).await;
            let status = match &outcome {
                Ok(response) => response.status().as_u16(),
                Err(error) => error.as_response_error().status_code().as_u16(),
            };
            crate::metrics::observe_request(server, route, method, status, started.elapsed());
            outcome
        })
    }
}

/// The standard methods by name; any other (an extension token a client made up) as
/// `other`, so a label cannot take unbounded values.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
