//! The request log both servers write (SECURITY.md 16): one `tracing` span per request,
//! closed with its status and latency. It carries the method, the route, the path — never
//! the query string, where a client may have put `access_token=…` or `code=…` — a request
//! id, and the client IP decided by the rule the rate limits use ([`super::client_ip`]),
//! not by whatever `Forwarded` or `X-Forwarded-For` header a client sent.
//!
//! It costs next to nothing when the log would drop the span (`RUST_LOG=warn`): every
//! field is computed inside `info_span!`, which evaluates them only for a span some
//! subscriber wants, so a disabled request log allocates nothing and makes no system call.
//! A logged request's id is a UUID v4 drawn from the thread's userspace CSPRNG
//! (`rand::rng()`), not from a `getrandom` call per request. The request id lives in the
//! log alone: no header carries it.
//!
//! With traces on, the span of a sampled request is also its OpenTelemetry server span
//! (declared under another target, the one the trace exporter takes), named
//! `{method} {route template}` and the child of the caller's `traceparent`, if any.

use std::future::{Future, Ready, ready as ready_now};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{Error, ResponseError};
use tracing::Span;
use tracing::field::Empty;

use crate::telemetry::traces;

/// The span of one request, under `target` (the traced requests' or this module's);
/// [`Span::none`] (and nothing computed) when no subscriber wants it.
macro_rules! request_span {
    ($target:expr, $request:expr) => {
        tracing::info_span!(
            target: $target,
            "HTTP request",
            otel.name = Empty,
            http.method = %$request.method(),
            http.route = Empty,
            http.path = %$request.path(),
            http.client_ip = %client_ip($request),
            http.user_agent = %user_agent($request),
            http.status_code = Empty,
            otel.kind = "server",
            otel.status_code = Empty,
            request_id = %request_id(),
            exception.message = Empty,
            exception.details = Empty,
        )
    };
}

/// Whether the proxy headers name the client (`TRUST_PROXY_HEADERS`): app data of each
/// server. Without it the log names the socket peer, which no client can forge.
#[derive(Debug, Clone, Copy)]
pub struct ClientIpRule {
    pub trust_proxy_headers: bool,
}

/// The request-logging middleware: `App::new().wrap(request_log::middleware())`.
pub fn middleware() -> RequestLog {
    RequestLog
}

/// See [`middleware`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestLog;

impl<S, B> Transform<S, ServiceRequest> for RequestLog
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<LoggedBody<B>>;
    type Error = Error;
    type Transform = RequestLogService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready_now(Ok(RequestLogService { service }))
    }
}

#[doc(hidden)]
#[derive(Debug)]
pub struct RequestLogService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for RequestLogService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<LoggedBody<B>>;
    type Error = Error;
    type Future = LoggedResponse<S::Future>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let span = if traces::is_sampled(request.headers()) {
            let span = request_span!(traces::TRACED_REQUESTS, &request);
            traces::adopt_remote_parent(&span, request.headers());
            span
        } else {
            request_span!(module_path!(), &request)
        };
        record_route(&span, &request);
        let response = span.in_scope(|| self.service.call(request));
        LoggedResponse { response, span }
    }
}

/// The route template, and the span's name in a trace, `{method} {route}`.
fn record_route(span: &Span, request: &ServiceRequest) {
    if span.is_disabled() {
        return;
    }
    let route = request.match_pattern();
    let route = route.as_deref().unwrap_or("default");
    span.record("http.route", route);
    span.record(
        "otel.name",
        tracing::field::display(format_args!("{} {route}", request.method())),
    );
}

fn client_ip(request: &ServiceRequest) -> String {
    let trust_proxy_headers = request
        .app_data::<ClientIpRule>()
        .is_some_and(|rule| rule.trust_proxy_headers);
    super::client_ip(request.request(), trust_proxy_headers).unwrap_or_default()
}

fn user_agent(request: &ServiceRequest) -> &str {
    request
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// A fresh UUID v4 from the thread's CSPRNG.
fn request_id() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid()
}

/// The status and, for an error, its message and details, recorded on the span as
/// `tracing-actix-web`'s default span builder records them (the log's fields are those).
fn record_outcome<B>(span: &Span, outcome: &Result<ServiceResponse<B>, Error>) {
    if span.is_disabled() {
        return;
    }
    match outcome {
        Ok(response) => match response.response().error() {
            Some(error) => record_error(span, response.status(), error.as_response_error()),
            None => {
                span.record("http.status_code", i32::from(response.status().as_u16()));
                span.record("otel.status_code", "OK");
            }
        },
        Err(error) => {
            let error = error.as_response_error();
            record_error(span, error.status_code(), error);
        }
    }
}

fn record_error(span: &Span, status: StatusCode, error: &dyn ResponseError) {
    span.record(
        "exception.message",
        tracing::field::display(format!("{error}")),
    );
    span.record(
        "exception.details",
        tracing::field::display(format!("{error:?}")),
    );
    span.record("http.status_code", i32::from(status.as_u16()));
    let otel_status = if status.is_client_error() {
        "OK"
    } else {
        "ERROR"
    };
    span.record("otel.status_code", otel_status);
}

pin_project_lite::pin_project! {
    /// The inner service's answer, polled inside the request's span.
    #[doc(hidden)]
    pub struct LoggedResponse<F> {
        #[pin]
        response: F,
        span: Span,
    }
}

impl<F, B> Future for LoggedResponse<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<LoggedBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = this.response;
        let outcome = ready!(this.span.in_scope(|| response.poll(cx)));
        record_outcome(this.span, &outcome);
        // The body keeps the span open until it has been sent: the latency includes it.
        let span = std::mem::replace(this.span, Span::none());
        Poll::Ready(outcome.map(|response| response.map_body(|_, body| LoggedBody { body, span })))
    }
}

pin_project_lite::pin_project! {
    /// A response body streamed inside its request's span.
    #[doc(hidden)]
    pub struct LoggedBody<B> {
        #[pin]
        body: B,
        span: Span,
    }
}

impl<B: MessageBody> MessageBody for LoggedBody<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.project();
        let body = this.body;
        this.span.in_scope(|| body.poll_next(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_random_version_4_uuids() {
        let (a, b) = (request_id(), request_id());
        assert_ne!(a, b);
        for id in [a, b] {
            assert_eq!(id.get_version(), Some(uuid::Version::Random));
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        }
    }
}
