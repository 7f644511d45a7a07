//! Structured logging with `tracing`: pretty lines for a terminal or JSON for a collector,
//! filtered by `RUST_LOG` (default `info`), written to stderr — stdout is for output meant
//! for programs, such as the CLI's JSON (SECURITY.md 16). What each request's line carries
//! is decided in `http::request_log`.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::LogFormat;

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Span close events carry each request's latency (`time.busy`) next to its route,
    // status and request id (recorded by the request-logging middleware).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        .with_target(true)
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal, not escape codes in a log file.
        .with_ansi(std::io::stderr().is_terminal());
    let _already_installed = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
