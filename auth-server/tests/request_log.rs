//! What auth-server's log shows of a request (SECURITY.md 16): the real binary, its real log
//! output in both formats, requests that carry a code, a token and a secret in the query
//! string (and a code in a form body). The path is logged; none of the secrets is. The
//! client IP is the socket peer unless `TRUST_PROXY_HEADERS` says a proxy appends it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/server_process.rs"]
#[allow(
    dead_code,
    reason = "the database and kill helpers are for the durability test"
)]
mod server_process;

use server_process::{ServerProcess, logged_field};

const SPOOFED: [(&str, &str); 2] = [
    ("X-Forwarded-For", "203.0.113.77"),
    ("Forwarded", "for=198.51.100.7"),
];

fn start(format: &str, level: &str, trust_proxy_headers: bool) -> ServerProcess {
    ServerProcess::start(
        env!("CARGO_BIN_EXE_auth-server"),
        "AUTH_SERVER_BIND",
        &[
            ("RUST_LOG", level),
            ("LOG_FORMAT", format),
            (
                "TRUST_PROXY_HEADERS",
                if trust_proxy_headers { "true" } else { "false" },
            ),
        ],
    )
}

/// Requests with secrets in their query strings (and one in a body); the log afterwards.
fn log_of_requests_with_secrets(format: &str, level: &str) -> String {
    let server = start(format, level, false);
    let status = server.request(
        "GET",
        "/authorize?response_type=code&client_id=client_unknown&code=ac_SECRETMARK1\
         &access_token=SECRETMARK2",
        &SPOOFED,
        "",
    );
    assert_eq!(status, 400, "an unknown client gets the error page");
    let status = server.request(
        "GET",
        "/login?return_to=%2Faccount%3Fcode%3DSECRETMARK3",
        &SPOOFED,
        "",
    );
    assert_eq!(status, 200);
    let status = server.request(
        "POST",
        "/token?client_secret=SECRETMARK4",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "grant_type=authorization_code&code=ac_BODYMARK5&client_id=client_unknown",
    );
    assert_eq!(status, 401, "an unknown client is invalid_client");
    let status = server.request("GET", "/no-such-page?access_token=SECRETMARK6", &[], "");
    assert_eq!(status, 404);
    server.stop_after_logging(4)
}

fn assert_no_secret_and_the_peer_address(log: &str, format: &str) {
    for secret in ["SECRETMARK", "BODYMARK"] {
        assert!(
            !log.contains(secret),
            "{secret} reached the {format} log:\n{log}"
        );
    }
    for path in ["/authorize", "/login", "/token", "/no-such-page"] {
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
    let log = log_of_requests_with_secrets("pretty", "info");
    assert_no_secret_and_the_peer_address(&log, "pretty");
}

#[test]
fn the_json_log_at_every_level_shows_paths_never_query_strings_and_the_peer_address() {
    let log = log_of_requests_with_secrets("json", "trace");
    assert_no_secret_and_the_peer_address(&log, "json");
}

#[test]
fn behind_a_trusted_proxy_the_logged_ip_is_the_one_it_appended() {
    let server = start("json", "info", true);
    let status = server.request(
        "GET",
        "/login",
        &[("X-Forwarded-For", "198.51.100.7, 203.0.113.77")],
        "",
    );
    assert_eq!(status, 200);
    let log = server.stop_after_logging(1);
    assert!(
        log.contains(&logged_field("json", "http.client_ip", "203.0.113.77")),
        "the last X-Forwarded-For entry is the client:\n{log}"
    );
    assert!(!log.contains("198.51.100.7"), "{log}");
}
