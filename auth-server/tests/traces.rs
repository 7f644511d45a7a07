//! auth-server's OpenTelemetry traces: the real binary exporting over OTLP/HTTP to a
//! receiver started here. A request that carries a W3C `traceparent` becomes a server span
//! named by its route template, the child of the caller's span, with the database calls it
//! made as its children; one without starts a trace of its own; one whose caller did not
//! sample is not traced; no query string or form value reaches the collector.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/otlp_receiver.rs"]
#[allow(dead_code, reason = "the JWKS side is for resource-api's test")]
mod otlp_receiver;
#[path = "../../tests/support/server_process.rs"]
#[allow(
    dead_code,
    reason = "the database and kill helpers are for other tests"
)]
mod server_process;

use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use otlp_receiver::{OtlpReceiver, hex};
use server_process::ServerProcess;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN_ID: &str = "00f067aa0ba902b7";
const UNSAMPLED_TRACE_ID: &str = "5bf92f3577b34da6a3ce929d0e0e4737";

#[test]
fn a_request_is_a_server_span_under_the_callers_traceparent_with_its_database_calls_below() {
    let receiver = OtlpReceiver::start();
    let endpoint = receiver.endpoint();
    let server = ServerProcess::start(
        env!("CARGO_BIN_EXE_auth-server"),
        "AUTH_SERVER_BIND",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            // The SDK's own batch setting: export every 100 ms, not every 5 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            // The log keeps only warnings from the request log; traces are filtered apart.
            ("RUST_LOG", "info,shared::http=warn"),
        ],
    );
    let traceparent = format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01");
    let status = server.request(
        "POST",
        "/token?client_secret=SECRETMARK1",
        &[
            ("traceparent", &traceparent),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "grant_type=client_credentials&client_id=client_unknown&client_secret=SECRETMARK2",
    );
    assert_eq!(status, 401, "an unknown client");
    // A caller that did not sample its trace: neither is this request's part of it.
    let unsampled = format!("00-{UNSAMPLED_TRACE_ID}-{CALLER_SPAN_ID}-00");
    assert_eq!(
        server.request("GET", "/login", &[("traceparent", &unsampled)], ""),
        200
    );
    assert_eq!(server.request("GET", "/healthz", &[], ""), 200);

    let (token, healthz) = receiver.wait_for(|spans| {
        let token = spans.iter().find(|s| s.span.name == "POST /token")?;
        let healthz = spans.iter().find(|s| s.span.name == "GET /healthz")?;
        // The database spans end before their request's span: present by now.
        Some((token.clone(), healthz.clone()))
    });
    assert_eq!(token.service, "auth-server");
    assert_eq!(token.span.kind, SpanKind::Server as i32);
    assert_eq!(hex(&token.span.trace_id), TRACE_ID, "the caller's trace");
    assert_eq!(
        hex(&token.span.parent_span_id),
        CALLER_SPAN_ID,
        "the caller's span"
    );
    assert_eq!(token.attribute("http.route").as_deref(), Some("/token"));
    assert_eq!(token.attribute("http.method").as_deref(), Some("POST"));
    assert_eq!(token.attribute("http.status_code").as_deref(), Some("401"));

    let spans = receiver.spans();
    let database: Vec<_> = spans
        .iter()
        .filter(|s| s.span.parent_span_id == token.span.span_id)
        .collect();
    assert!(!database.is_empty(), "the client lookup is a child span");
    for span in &database {
        assert_eq!(span.span.trace_id, token.span.trace_id);
        assert_eq!(span.span.kind, SpanKind::Client as i32);
        assert_eq!(span.attribute("db.system.name").as_deref(), Some("sqlite"));
        assert!(span.span.name.ends_with(" sqlite"), "{}", span.span.name);
    }

    assert_ne!(
        healthz.span.trace_id, token.span.trace_id,
        "a trace of its own"
    );
    assert!(healthz.span.parent_span_id.is_empty(), "a root span");

    for export in receiver.exports() {
        let body = String::from_utf8_lossy(&export.body);
        assert!(
            !body.contains("SECRETMARK"),
            "a secret reached the collector"
        );
    }
}

#[test]
fn a_collector_url_with_credentials_is_refused_without_echoing_them() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_auth-server"))
        .arg("serve")
        .env_clear()
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://user:pw@collector.example",
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_ENDPOINT") && stderr.contains("credentials"),
        "{stderr}"
    );
    assert!(!stderr.contains("pw@"), "{stderr}");
}
