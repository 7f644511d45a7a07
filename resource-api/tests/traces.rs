//! The task API's OpenTelemetry traces: the real binary exporting over OTLP/HTTP to a
//! receiver started here, its keys fetched from a JWKS endpoint started here too. A token
//! signed by a key the API has not seen makes it fetch the keys again while serving the
//! request: that fetch is a client span under the request's server span (itself under the
//! caller's `traceparent`), and the fetch carries a `traceparent` naming that client span.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/otlp_receiver.rs"]
mod otlp_receiver;
#[path = "../../tests/support/server_process.rs"]
#[allow(
    dead_code,
    reason = "the database and kill helpers are for other tests"
)]
mod server_process;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use otlp_receiver::{OtlpReceiver, RecordingServer, hex};
use server_process::ServerProcess;

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN_ID: &str = "b7ad6b7169203331";

/// A well-formed access-token header naming a key nobody published; the signature is junk.
fn token_of_an_unknown_key() -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","typ":"at+jwt","kid":"kid-unseen"}"#);
    let claims = URL_SAFE_NO_PAD.encode("{}");
    format!("{header}.{claims}.c2lnbmF0dXJl")
}

#[test]
fn a_key_fetch_made_for_a_request_is_its_child_span_and_carries_its_traceparent() {
    let receiver = OtlpReceiver::start();
    let endpoint = receiver.endpoint();
    let jwks = RecordingServer::start("application/json", br#"{"keys":[]}"#);
    let jwks_url = format!("http://127.0.0.1:{}/jwks.json", jwks.port);
    let server = ServerProcess::start(
        env!("CARGO_BIN_EXE_resource-api"),
        "RESOURCE_API_BIND",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_SERVICE_NAME", "tasks-api-under-test"),
            ("JWKS_URL", &jwks_url),
        ],
    );
    // The fetch at startup, outside any request, is a trace of its own.
    jwks.wait_for(|requests| (!requests.is_empty()).then_some(()));

    let traceparent = format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01");
    let authorization = format!("Bearer {}", token_of_an_unknown_key());
    let status = server.request(
        "GET",
        "/api/tasks?access_token=SECRETMARK1",
        &[
            ("traceparent", &traceparent),
            ("Authorization", &authorization),
        ],
        "",
    );
    assert_eq!(status, 401, "a key nobody published");

    // The fetch the request caused names the trace and a span of the task API.
    let fetch_parent = jwks.wait_for(|requests| {
        requests
            .iter()
            .filter_map(|request| request.header("traceparent"))
            .find(|value| value.contains(TRACE_ID))
            .map(str::to_owned)
    });
    let fields: Vec<&str> = fetch_parent.split('-').collect();
    assert_eq!(fields.len(), 4, "{fetch_parent}");
    assert_eq!(fields[0], "00", "W3C version");
    assert_eq!(fields[3], "01", "sampled");
    let fetch_span_id = fields[2].to_owned();

    let (request, fetch) = receiver.wait_for(|spans| {
        let request = spans.iter().find(|s| s.span.name == "GET /api/tasks")?;
        let fetch = spans
            .iter()
            .find(|s| hex(&s.span.span_id) == fetch_span_id)?;
        Some((request.clone(), fetch.clone()))
    });
    assert_eq!(
        request.service, "tasks-api-under-test",
        "OTEL_SERVICE_NAME wins"
    );
    assert_eq!(request.span.kind, SpanKind::Server as i32);
    assert_eq!(hex(&request.span.trace_id), TRACE_ID);
    assert_eq!(hex(&request.span.parent_span_id), CALLER_SPAN_ID);
    assert_eq!(
        request.attribute("http.route").as_deref(),
        Some("/api/tasks")
    );

    assert_eq!(fetch.span.kind, SpanKind::Client as i32);
    assert_eq!(fetch.span.name, "GET");
    assert_eq!(fetch.span.trace_id, request.span.trace_id);
    assert_eq!(fetch.span.parent_span_id, request.span.span_id);
    assert_eq!(fetch.attribute("url.full"), Some(jwks_url.clone()));
    assert_eq!(
        fetch.attribute("http.response.status_code").as_deref(),
        Some("200")
    );

    for export in receiver.exports() {
        let body = String::from_utf8_lossy(&export.body);
        assert!(
            !body.contains("SECRETMARK"),
            "a query string reached the collector"
        );
        assert!(
            !body.contains("c2lnbmF0dXJl"),
            "the token reached the collector"
        );
    }
}
