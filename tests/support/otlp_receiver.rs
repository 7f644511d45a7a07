//! What the traces tests talk to: a small HTTP/1.1 server that records every request it
//! gets and answers each with a fixed body — as an OpenTelemetry collector's OTLP/HTTP
//! receiver (`POST /v1/traces`, protobuf, decoded with the OpenTelemetry project's own
//! message types) or as a JWKS endpoint that shows what headers a server sent it.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;

const WAIT: Duration = Duration::from_secs(30);

/// One request as it arrived: its method, path, headers (names lower-cased) and body.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A server on a free loopback port answering `status` with `content_type` and `body`.
pub struct RecordingServer {
    pub port: u16,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

impl RecordingServer {
    pub fn start(content_type: &'static str, body: &'static [u8]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let sink = recorded.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let sink = sink.clone();
                std::thread::spawn(move || serve(stream, &sink, content_type, body));
            }
        });
        Self { port, recorded }
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }

    /// Waits until `found` picks something out of the requests so far.
    pub fn wait_for<T>(&self, found: impl Fn(&[Recorded]) -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(value) = found(&self.recorded()) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "not received in time; got {:#?}",
                self.recorded()
                    .iter()
                    .map(|r| (&r.method, &r.path))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Answers the requests of one connection (keep-alive) until the peer closes it.
fn serve(stream: TcpStream, sink: &Mutex<Vec<Recorded>>, content_type: &str, body: &[u8]) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let length: usize = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(0);
        let mut received = vec![0; length];
        if reader.read_exact(&mut received).is_err() {
            return;
        }
        sink.lock().unwrap().push(Recorded {
            method,
            path,
            headers,
            body: received,
        });
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(body).is_err() {
            return;
        }
    }
}

/// A span as the collector got it, with the `service.name` of its resource.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    pub service: String,
    pub span: Span,
}

impl ReceivedSpan {
    /// The attribute `key` as text (numbers written out), if the span has it.
    pub fn attribute(&self, key: &str) -> Option<String> {
        attribute(&self.span.attributes, key)
    }
}

fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    let value = attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    match value {
        AnyValue {
            value: Some(Value::StringValue(text)),
        } => Some(text.clone()),
        AnyValue {
            value: Some(Value::IntValue(number)),
        } => Some(number.to_string()),
        AnyValue {
            value: Some(Value::BoolValue(flag)),
        } => Some(flag.to_string()),
        other => Some(format!("{other:?}")),
    }
}

/// An OTLP/HTTP trace receiver.
pub struct OtlpReceiver {
    server: RecordingServer,
}

impl OtlpReceiver {
    pub fn start() -> Self {
        // An empty ExportTraceServiceResponse: everything accepted.
        Self {
            server: RecordingServer::start("application/x-protobuf", b""),
        }
    }

    /// The base URL to give as `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port)
    }

    /// Every export request so far, checked to be OTLP/HTTP protobuf on `/v1/traces`.
    pub fn exports(&self) -> Vec<Recorded> {
        let exports = self.server.recorded();
        for export in &exports {
            assert_eq!(
                (export.method.as_str(), export.path.as_str()),
                ("POST", "/v1/traces")
            );
            assert_eq!(
                export.header("content-type"),
                Some("application/x-protobuf")
            );
        }
        exports
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        let mut spans = Vec::new();
        for export in self.exports() {
            let request = ExportTraceServiceRequest::decode(export.body.as_slice())
                .expect("an OTLP ExportTraceServiceRequest");
            for resource_spans in request.resource_spans {
                let service = resource_spans
                    .resource
                    .as_ref()
                    .and_then(|resource| attribute(&resource.attributes, "service.name"))
                    .unwrap_or_default();
                for scope_spans in resource_spans.scope_spans {
                    spans.extend(scope_spans.spans.into_iter().map(|span| ReceivedSpan {
                        service: service.clone(),
                        span,
                    }));
                }
            }
        }
        spans
    }

    /// Waits until `found` picks something out of the spans received so far.
    pub fn wait_for<T>(&self, found: impl Fn(&[ReceivedSpan]) -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            let spans = self.spans();
            if let Some(value) = found(&spans) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "the spans expected did not arrive; got {:#?}",
                spans
                    .iter()
                    .map(|s| (
                        &s.span.name,
                        hex(&s.span.span_id),
                        hex(&s.span.parent_span_id)
                    ))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Lower-case hex, as `traceparent` writes ids.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
