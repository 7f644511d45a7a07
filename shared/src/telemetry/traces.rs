//! OpenTelemetry traces, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: the `tracing` spans of
//! requests, database calls and outgoing HTTP become OpenTelemetry spans, batched and sent
//! over OTLP/HTTP with protobuf to `{endpoint}/v1/traces` by the official SDK. The rest of
//! the standard variables are the SDK's own: `OTEL_SERVICE_NAME` (default: the server's
//! name), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS` (a collector's
//! credentials), `OTEL_TRACES_SAMPLER` and its argument, `OTEL_BSP_*`.
//!
//! W3C Trace Context: a request's `traceparent` (and `tracestate`) make its span a child
//! of the caller's ([`adopt_remote_parent`]); outgoing requests carry the current span's
//! ([`propagation_headers`]).
//!
//! Sampling is decided before a request's span is built ([`is_sampled`]), by the rule
//! `OTEL_TRACES_SAMPLER` names (the caller's sampled flag for the parent-based ones, else
//! `OTEL_TRACES_SAMPLER_ARG`'s ratio): a request that is not sampled gets the log's span
//! alone and costs the exporter nothing, and neither do its database calls. What spans carry is what the request log carries — route
//! templates, paths without their query, statuses — never a query string, a header value
//! or a body (SECURITY.md 16).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::{Instrument as _, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// How long the last batch may take to leave at shutdown.
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(5);

/// The target of the request spans that are traced; the others are the log's alone.
pub const TRACED_REQUESTS: &str = "shared::telemetry::traced_request";

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();
static SAMPLING: OnceLock<Sampling> = OnceLock::new();
/// Whether spans are exported: read on every request, so a relaxed atomic, not the lock.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether traces are being exported (the propagation work is skipped otherwise).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The layer that turns spans into OpenTelemetry spans sent to `endpoint`, for the service
/// `service` unless `OTEL_SERVICE_NAME` names it. Installs the tracer provider once per
/// process.
pub fn layer<S>(endpoint: &str, service: &str) -> Result<impl Layer<S>, String>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    // An https collector needs the TLS backend the rest of the process uses.
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .build()
        .map_err(|e| format!("cannot build the OTLP exporter for {endpoint}: {e}"))?;
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service.to_owned());
    }
    let _first_setting = SAMPLING.set(Sampling::from_environment());
    let provider = PROVIDER.get_or_init(|| {
        SdkTracerProvider::builder()
            .with_resource(resource.build())
            // The decision is taken before the span exists (`is_sampled`): what reaches
            // the SDK is kept.
            .with_sampler(opentelemetry_sdk::trace::Sampler::AlwaysOn)
            .with_batch_exporter(exporter)
            .build()
    });
    ENABLED.store(true, Ordering::Relaxed);
    let tracer = provider.tracer(env!("CARGO_PKG_NAME"));
    Ok(tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_location(false)
        .with_target(false))
}

/// Sends the spans still in the batch and stops the exporter (at the end of `main`).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(error) = provider.shutdown_with_timeout(SHUTDOWN_FLUSH)
    {
        tracing::warn!(error = %error, "traces not all sent at shutdown");
    }
}

/// Which requests are traced: the sampler the standard variables name.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sampling {
    /// A caller's `traceparent` decides, when it names a valid span.
    follow_parent: bool,
    /// The share of the other requests traced, 0 to 1.
    ratio: f64,
}

impl Sampling {
    fn from_environment() -> Self {
        let sampler = std::env::var("OTEL_TRACES_SAMPLER").unwrap_or_default();
        let argument = std::env::var("OTEL_TRACES_SAMPLER_ARG").ok();
        Self::parse(sampler.trim(), argument.as_deref())
    }

    /// The rule of `OTEL_TRACES_SAMPLER` (OpenTelemetry's environment specification);
    /// unset or unknown: `parentbased_always_on`, the SDK's default.
    fn parse(sampler: &str, argument: Option<&str>) -> Self {
        let ratio = || {
            argument
                .and_then(|value| value.trim().parse::<f64>().ok())
                .filter(|ratio| (0.0..=1.0).contains(ratio))
                .unwrap_or(1.0)
        };
        let (follow_parent, ratio) = match sampler {
            "always_on" => (false, 1.0),
            "always_off" => (false, 0.0),
            "traceidratio" => (false, ratio()),
            "parentbased_always_off" => (true, 0.0),
            "parentbased_traceidratio" => (true, ratio()),
            _ => (true, 1.0),
        };
        Self {
            follow_parent,
            ratio,
        }
    }
}

/// Whether the request with `headers` is traced: never when traces are off; else as the
/// caller's sampled flag says (parent-based samplers), else by the ratio.
pub fn is_sampled(headers: &actix_web::http::header::HeaderMap) -> bool {
    if !enabled() {
        return false;
    }
    let sampling = SAMPLING.get().copied().unwrap_or(Sampling {
        follow_parent: true,
        ratio: 1.0,
    });
    if sampling.follow_parent && headers.contains_key("traceparent") {
        let remote = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
        let parent = remote.span().span_context().clone();
        if parent.is_valid() {
            return parent.is_sampled();
        }
    }
    sampling.ratio >= 1.0 || (sampling.ratio > 0.0 && rand::random::<f64>() < sampling.ratio)
}

/// Makes `span` a child of the remote span the request's `traceparent` names, if it names
/// a valid one (W3C Trace Context §3); anything else leaves it a root.
pub fn adopt_remote_parent(span: &Span, headers: &actix_web::http::header::HeaderMap) {
    if !enabled() || span.is_disabled() {
        return;
    }
    let remote = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    // A span that is already recording cannot change parents: nothing to do then.
    let _recording_already = span.set_parent(remote);
}

/// The `traceparent` (and `tracestate`) headers naming `span` as the parent, for a request
/// made inside it; none when traces are off.
pub fn propagation_headers(span: &Span) -> Vec<(String, String)> {
    if !enabled() || span.is_disabled() {
        return Vec::new();
    }
    let mut headers = HeaderInjector(Vec::new());
    TraceContextPropagator::new().inject_context(&span.context(), &mut headers);
    headers.0
}

/// Sends `request`, a `method` request to `url`, in a client span of its own whose
/// context its `traceparent` header carries; records the status it got.
pub async fn send_traced(
    request: reqwest::RequestBuilder,
    method: &'static str,
    url: &str,
) -> reqwest::Result<reqwest::Response> {
    let span = client_span(method, url);
    let request = propagation_headers(&span)
        .into_iter()
        .fold(request, |request, (name, value)| {
            request.header(name, value)
        });
    let sent = request.send().instrument(span.clone()).await;
    record_client_outcome(&span, sent.as_ref().ok().map(|r| r.status().as_u16()));
    sent
}

/// The span of an outgoing HTTP request to `url`, shown without its query or credentials
/// (a back-channel URI may carry either).
fn client_span(method: &'static str, url: &str) -> Span {
    let url = url::Url::parse(url).ok();
    let url = url.as_ref();
    tracing::debug_span!(
        "HTTP client request",
        otel.name = method,
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        http.request.method = method,
        http.response.status_code = tracing::field::Empty,
        server.address = url.and_then(url::Url::host_str).unwrap_or_default(),
        server.port = url.and_then(url::Url::port_or_known_default).unwrap_or_default(),
        url.full = %url.map(shown_url).unwrap_or_default(),
    )
}

/// Records the answer (or its absence) of a request made in [`client_span`].
fn record_client_outcome(span: &Span, status: Option<u16>) {
    match status {
        Some(status) => {
            span.record("http.response.status_code", status);
            span.record(
                "otel.status_code",
                if status < 400 { "OK" } else { "ERROR" },
            );
        }
        None => {
            span.record("otel.status_code", "ERROR");
        }
    }
}

/// `scheme://host:port/path`: the URL without credentials, query or fragment.
fn shown_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _no_username = shown.set_username("");
    let _no_password = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

struct HeaderExtractor<'a>(&'a actix_web::http::header::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0
            .keys()
            .map(actix_web::http::header::HeaderName::as_str)
            .collect()
    }
}

struct HeaderInjector(Vec<(String, String)>);

impl Injector for HeaderInjector {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_sampler_names_are_read_as_the_specification_says() {
        let read = |sampler, argument| {
            let Sampling {
                follow_parent,
                ratio,
            } = Sampling::parse(sampler, argument);
            (follow_parent, ratio)
        };
        assert_eq!(read("", None), (true, 1.0));
        assert_eq!(read("parentbased_traceidratio", Some("0.1")), (true, 0.1));
        assert_eq!(read("traceidratio", Some("0.25")), (false, 0.25));
        assert_eq!(read("always_off", None), (false, 0.0));
        assert_eq!(read("parentbased_always_off", None), (true, 0.0));
        assert_eq!(
            read("traceidratio", Some("7")),
            (false, 1.0),
            "out of range"
        );
        assert_eq!(
            read("jaeger_remote", None),
            (true, 1.0),
            "unknown: the default"
        );
    }

    #[test]
    fn a_shown_url_has_no_credentials_query_or_fragment() {
        let url = url::Url::parse("https://user:pw@rp.example:8443/logout?sid=secret#x").unwrap();
        assert_eq!(shown_url(&url), "https://rp.example:8443/logout");
    }
}
