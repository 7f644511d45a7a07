//! The request log both servers write (SECURITY.md 16): one `tracing` span per request,
//! closed with its status and latency. It carries the method, the route, the path — never
//! the query string, where a client may have put `access_token=…` or `code=…` — the
//! request id, and the client IP decided by the rule the rate limits use
//! ([`super::client_ip`]), not by whatever `Forwarded` or `X-Forwarded-For` header a
//! client sent.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage as _};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder, TracingLogger};

/// Whether the proxy headers name the client (`TRUST_PROXY_HEADERS`): app data of each
/// server. Without it the log names the socket peer, which no client can forge.
#[derive(Debug, Clone, Copy)]
pub struct ClientIpRule {
    pub trust_proxy_headers: bool,
}

/// The request-logging middleware: `App::new().wrap(request_log::middleware())`.
pub fn middleware() -> TracingLogger<RequestSpan> {
    TracingLogger::new()
}

/// Builds each request's span; `tracing_actix_web`'s default one records the full target
/// (path and query) and trusts the client's proxy headers for the IP.
#[derive(Debug)]
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let trust_proxy_headers = request
            .app_data::<ClientIpRule>()
            .is_some_and(|rule| rule.trust_proxy_headers);
        let client_ip =
            super::client_ip(request.request(), trust_proxy_headers).unwrap_or_default();
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "default".to_owned());
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.path = %request.path(),
            http.client_ip = %client_ip,
            http.user_agent = %user_agent,
            http.status_code = Empty,
            otel.kind = "server",
            otel.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // Status and error fields, as the default builder records them.
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
