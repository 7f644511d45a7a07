//! A token the server acknowledged is in the database, even if the server is killed at
//! once (SIGKILL, no shutdown code) — on SQLite, where commits are not synced to disk one
//! by one (`synchronous = NORMAL`) and checkpoints run on a thread of their own: what the
//! log holds survives the process (README, "Benchmarks").

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/server_process.rs"]
#[allow(dead_code, reason = "this test uses part of the helper")]
mod server_process;

use base64::Engine as _;
use diesel::prelude::*;
use server_process::ServerProcess;

const TOKENS: usize = 200;

fn json_field(json: &str, name: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    value[name].as_str().unwrap().to_owned()
}

#[test]
fn every_acknowledged_token_survives_a_kill_9() {
    let mut server = ServerProcess::start(
        env!("CARGO_BIN_EXE_auth-server"),
        "AUTH_SERVER_BIND",
        &[("RUST_LOG", "info"), ("RATE_LIMITS", "off")],
    );
    let database_url = server.database_url();
    // The operator's CLI registers the client while the server runs.
    let created = std::process::Command::new(env!("CARGO_BIN_EXE_auth-server"))
        .args(["clients", "create", "--name", "Service"])
        .args(["--grant-type", "client_credentials"])
        .env("DATABASE_URL", &database_url)
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let created = String::from_utf8(created.stdout).unwrap();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        json_field(&created, "client_id"),
        json_field(&created, "client_secret")
    ));
    let authorization = format!("Basic {basic}");
    let headers = [
        ("Authorization", authorization.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];

    let mut acknowledged = Vec::with_capacity(TOKENS);
    for _ in 0..TOKENS {
        let (status, body) =
            server.exchange("POST", "/token", &headers, "grant_type=client_credentials");
        assert_eq!(status, 200, "{body}");
        let token = json_field(&body, "access_token");
        let payload = token.split('.').nth(1).unwrap();
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
        acknowledged.push(claims["jti"].as_str().unwrap().to_owned());
    }
    server.kill();

    let path = database_url.strip_prefix("sqlite://").unwrap();
    let mut conn = diesel::SqliteConnection::establish(path).unwrap();
    let stored: Vec<String> = shared::schema::access_tokens::table
        .select(shared::schema::access_tokens::jti)
        .load(&mut conn)
        .unwrap();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|jti| !stored.contains(jti))
        .collect();
    assert!(missing.is_empty(), "lost after kill -9: {missing:?}");
}
