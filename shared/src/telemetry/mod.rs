//! Structured logging with `tracing`: pretty lines for a terminal or JSON for a collector,
//! filtered by `RUST_LOG` (default `info`), written to stderr — stdout is for output meant
//! for programs, such as the CLI's JSON (SECURITY.md 16). What each request's line carries
//! is decided in `http::request_log`. With `OTEL_EXPORTER_OTLP_ENDPOINT` the same spans,
//! and the database and outgoing-HTTP spans below them, are also sent as OpenTelemetry
//! traces ([`traces`]), filtered on their own: `RUST_LOG=warn` quiets the log, not the
//! traces.

pub mod traces;

use std::io::IsTerminal as _;

use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::filter::DynFilterFn;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, Registry};

use crate::config::LogFormat;

/// Where traces go and whose they are: the OTLP base URL and the service's name.
#[derive(Debug, Clone, Copy)]
pub struct TraceExport<'a> {
    pub endpoint: &'a str,
    pub service: &'a str,
}

impl<'a> TraceExport<'a> {
    /// The export `settings` ask for, as `service`; `None` when traces are off.
    pub fn of(settings: &'a crate::config::Settings, service: &'a str) -> Option<Self> {
        settings
            .otlp_endpoint
            .as_deref()
            .map(|endpoint| Self { endpoint, service })
    }
}

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(format: LogFormat, traces: Option<TraceExport<'_>>) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Span close events carry each request's latency (`time.busy`) next to its route,
    // status and request id (recorded by the request-logging middleware).
    let log = tracing_subscriber::fmt::layer()
        .with_span_events(FmtSpan::CLOSE)
        .with_target(true)
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal, not escape codes in a log file.
        .with_ansi(std::io::stderr().is_terminal());
    let log = match format {
        LogFormat::Json => log.json().flatten_event(true).boxed(),
        LogFormat::Pretty => log.boxed(),
    }
    .with_filter(filter);
    let exported = traces.and_then(|traces| {
        match traces::layer::<Registry>(traces.endpoint, traces.service) {
            Ok(layer) => Some(layer.with_filter(traced_spans::<Registry>())),
            Err(error) => {
                // Traces are for watching the service, not for serving it: carry on.
                eprintln!("{}: traces are off: {error}", traces.service);
                None
            }
        }
    });
    let _already_installed = tracing_subscriber::registry()
        .with(exported)
        .with(log)
        .try_init();
}

/// What becomes a trace: the spans of sampled requests ([`traces::TRACED_REQUESTS`]), and
/// below them their database and outgoing-HTTP spans (declared at `debug`, so the log
/// leaves them out) and their events at `info` and above. Nothing outside a sampled
/// request: an unsampled one costs the exporter nothing.
fn traced_spans<S>() -> impl Filter<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let below_requests = |target: &str| {
        target.starts_with("shared::db") || target.starts_with("shared::telemetry::traces")
    };
    DynFilterFn::new(|metadata: &Metadata<'_>, cx: &Context<'_, S>| {
        metadata.target() == traces::TRACED_REQUESTS || cx.lookup_current().is_some()
    })
    .with_callsite_filter(move |metadata| {
        let wanted = metadata.target() == traces::TRACED_REQUESTS
            || below_requests(metadata.target())
            || *metadata.level() <= Level::INFO;
        if wanted {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    })
}
