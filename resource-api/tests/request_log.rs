//! What the task API's log shows of a request (SECURITY.md 16): the real binary, its real
//! log output in both formats, requests with a token in the query string (not a credential
//! here, but a client may send one) and a bad one in the `Authorization` header. The path is
//! logged; no token is. The client IP is the socket peer unless `TRUST_PROXY_HEADERS` says
//! a proxy appends it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/server_process.rs"]
#[allow(
    dead_code,
    reason = "the database and kill helpers are for the auth-server's tests"
)]
mod server_process;

use server_process::{ServerProcess, logged_field};

const SPOOFED: [(&str, &str); 2] = [
    ("X-Forwarded-For", "203.0.113.77"),
    ("Forwarded", "for=198.51.100.7"),
];

fn start(format: &str, level: &str, trust_proxy_headers: bool) -> ServerProcess {
    ServerProcess::start(
        env!("CARGO_BIN_EXE_resource-api"),
        "RESOURCE_API_BIND",
        &[
            ("RUST_LOG", level),
            ("LOG_FORMAT", format),
            (
                "TRUST_PROXY_HEADERS",
                if trust_proxy_headers { "true" } else { "false" },
            ),
            // No issuer runs: the keys cannot be fetched, which is logged, not fatal.
            ("JWKS_URL", "http://127.0.0.1:9/jwks.json"),
        ],
    )
}

fn log_of_requests_with_tokens(format: &str, level: &str) -> String {
    let server = start(format, level, false);
    let status = server.request(
        "GET",
        "/api/tasks?access_token=SECRETMARK1&status=pending",
        &SPOOFED,
        "",
    );
    assert_eq!(status, 401, "a token in the query string is no credential");
    let status = server.request(
        "GET",
        "/api/tasks/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b?code=ac_SECRETMARK2",
        &[("Authorization", "Bearer eyJSECRETMARK3.eyJ.sig")],
        "",
    );
    assert_eq!(status, 401, "a bad bearer token");
    let status = server.request(
        "GET",
        "/no-such-path?access_token=SECRETMARK4",
        &SPOOFED,
        "",
    );
    assert_eq!(status, 404);
    server.stop_after_logging(3)
}

fn assert_no_token_and_the_peer_address(log: &str, format: &str) {
    assert!(
        !log.contains("SECRETMARK"),
        "a token reached the {format} log:\n{log}"
    );
    for path in [
        "/api/tasks",
        "/api/tasks/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "/no-such-path",
    ] {
        assert!(
            log.contains(&logged_field(format, "http.path", path)),
            "{path} is logged:\n{log}"
        );
    }
    assert!(
        log.contains(&logged_field(format, "http.client_ip", "127.0.0.1")),
        "the client IP is the socket peer:\n{log}"
    );
    for spoofed in ["203.0.113.77", "198.51.100.7"] {
        assert!(!log.contains(spoofed), "{spoofed} was believed:\n{log}");
    }
}

#[test]
fn the_pretty_log_shows_paths_never_query_strings_and_the_peer_address() {
    let log = log_of_requests_with_tokens("pretty", "info");
    assert_no_token_and_the_peer_address(&log, "pretty");
}

#[test]
fn the_json_log_at_every_level_shows_paths_never_query_strings_and_the_peer_address() {
    let log = log_of_requests_with_tokens("json", "trace");
    assert_no_token_and_the_peer_address(&log, "json");
}

#[test]
fn behind_a_trusted_proxy_the_logged_ip_is_the_one_it_appended() {
    let server = start("pretty", "info", true);
    let status = server.request(
        "GET",
        "/api/health",
        &[("X-Forwarded-For", "198.51.100.7, 203.0.113.77")],
        "",
    );
    assert_eq!(status, 200);
    let log = server.stop_after_logging(1);
    assert!(
        log.contains(&logged_field("pretty", "http.client_ip", "203.0.113.77")),
        "the last X-Forwarded-For entry is the client:\n{log}"
    );
    assert!(!log.contains("198.51.100.7"), "{log}");
}
