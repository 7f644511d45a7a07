//! The operator CLI as an operator runs it: the real binary, a fresh SQLite file, JSON out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

struct Workspace {
    dir: PathBuf,
}

impl Workspace {
    fn new() -> Self {
        let dir = std::env::temp_dir()
            .join(format!("cli-test-{}", std::process::id()))
            .join(format!("{:?}", std::thread::current().id()).replace(['(', ')'], ""));
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.run_logging(args, stdin, "error")
    }

    /// `run` with the log filter `RUST_LOG=level`.
    fn run_logging(&self, args: &[&str], stdin: Option<&str>, level: &str) -> Output {
        self.run_with(args, stdin, &[("RUST_LOG", level)])
    }

    /// `run` with more environment variables (which win over the defaults).
    fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_auth-server"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", self.dir.join("cli.sqlite3").display()),
            )
            .env("RUST_LOG", "error")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    /// `users create` for alice, which must work.
    fn create_alice(&self) {
        let output = self.run(
            &[
                "users",
                "create",
                "--username",
                "alice",
                "--email",
                "alice@example.com",
            ],
            Some("violet-anchor-tundra-42"),
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Gives alice a confirmed second factor and a recovery code, as enrolment stores them.
    fn give_alice_a_second_factor(&self) {
        use diesel::{Connection as _, RunQueryDsl as _};
        let path = self.dir.join("cli.sqlite3");
        let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        for statement in [
            "INSERT INTO totp_factors (user_id, secret, created_at, confirmed_at, last_used_step) \
             SELECT id, 'plain:MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0 \
             FROM users WHERE username = 'alice'",
            "INSERT INTO recovery_codes (code_hash, user_id, created_at) \
             SELECT 'hash', id, CURRENT_TIMESTAMP FROM users WHERE username = 'alice'",
        ] {
            diesel::sql_query(statement).execute(&mut conn).unwrap();
        }
    }

    fn count(&self, table: &str) -> i64 {
        use diesel::{Connection as _, QueryableByName, RunQueryDsl as _};
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let path = self.dir.join("cli.sqlite3");
        let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<Count>(&mut conn)
            .unwrap()
            .n
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let output = self.run(args, None);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ignored = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn users_create_reads_the_password_from_stdin() {
    let ws = Workspace::new();
    let output = ws.run(
        &[
            "users",
            "create",
            "--username",
            "Alice",
            "--email",
            "alice@example.com",
        ],
        Some("violet-anchor-tundra-42\n"),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let user: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(user["username"], "alice");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("violet"));

    let weak = ws.run(
        &[
            "users",
            "create",
            "--username",
            "bob",
            "--email",
            "bob@example.com",
        ],
        Some("password1234"),
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"));

    let taken = ws.run(
        &[
            "users",
            "create",
            "--username",
            "alice",
            "--email",
            "x@example.com",
        ],
        Some("violet-anchor-tundra-42"),
    );
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("already registered"));
}

#[test]
fn an_operator_hands_over_a_reset_link_and_deletes_an_account() {
    let ws = Workspace::new();
    ws.create_alice();
    let reset = ws.json(&["users", "reset-password", "--username", "Alice"]);
    assert_eq!(reset["username"], "alice");
    assert_eq!(reset["expires_in"], 1800);
    let link = reset["reset_link"].as_str().unwrap();
    assert!(
        link.starts_with("http://127.0.0.1:8080/reset-password?token=pr_"),
        "{link}"
    );

    ws.give_alice_a_second_factor();
    let disabled = ws.json(&["users", "disable-mfa", "--username", "alice"]);
    assert_eq!(disabled["mfa_disabled"], true);
    assert_eq!(
        (ws.count("totp_factors"), ws.count("recovery_codes")),
        (0, 0)
    );
    let events = ws.json(&["audit", "list", "--kind", "mfa_disabled"]);
    assert_eq!(events[0]["detail"]["by"], "operator");
    let again = ws.json(&["users", "disable-mfa", "--username", "alice"]);
    assert_eq!(again["mfa_disabled"], false, "off already");

    let deleted = ws.json(&["users", "delete", "--username", "alice"]);
    assert_eq!(deleted["username"], "alice");
    let events = ws.json(&["audit", "list", "--kind", "account_deleted"]);
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["user_id"], deleted["deleted"]);
    assert_eq!(events[0]["detail"]["by"], "operator");
    for command in ["reset-password", "disable-mfa", "delete"] {
        let gone = ws.run(&["users", command, "--username", "alice"], None);
        assert_eq!(gone.status.code(), Some(3), "{command}: not found");
    }
}

#[test]
fn clients_are_created_listed_shown_disabled_and_rotated() {
    let ws = Workspace::new();
    let created = ws.json(&[
        "clients",
        "create",
        "--name",
        "Example App",
        "--redirect-uri",
        "https://app.example.com/callback",
        "--redirect-uri",
        "https://app.example.com/other",
        "--scope",
        "tasks:read tasks:write",
    ]);
    let id = created["client_id"].as_str().unwrap().to_owned();
    assert!(
        created["client_secret"]
            .as_str()
            .unwrap()
            .starts_with("cs_")
    );
    assert_eq!(created["redirect_uris"].as_array().unwrap().len(), 2);
    assert_eq!(created["public"], false);
    assert_eq!(created["require_pkce"], true);
    assert_eq!(created["require_mfa"], false);
    let strict = ws.json(&[
        "clients",
        "create",
        "--name",
        "Payroll",
        "--redirect-uri",
        "https://payroll.example.com/cb",
        "--require-mfa",
    ]);
    assert_eq!(strict["require_mfa"], true);
    let strict_id = strict["client_id"].as_str().unwrap().to_owned();
    assert_eq!(
        ws.json(&["clients", "show", &strict_id])["require_mfa"],
        true
    );

    let public = ws.json(&[
        "clients",
        "create",
        "--name",
        "Mobile",
        "--redirect-uri",
        "com.example.app:/cb",
        "--public",
        "--first-party",
    ]);
    assert!(
        public.get("client_secret").is_none(),
        "public clients have no secret"
    );
    assert_eq!(public["token_endpoint_auth_method"], "none");

    let list = ws.json(&["clients", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(
        !list.to_string().contains("cs_"),
        "secrets are never shown again"
    );

    let shown = ws.json(&["clients", "show", &id]);
    assert_eq!(shown["name"], "Example App");
    assert!(shown.get("client_secret").is_none());

    let disabled = ws.json(&["clients", "disable", &id]);
    assert_eq!(disabled["disabled"], true);
    assert!(!ws.json(&["clients", "show", &id])["disabled_at"].is_null());

    let rotated = ws.json(&["clients", "rotate-secret", &id]);
    assert_ne!(rotated["client_secret"], created["client_secret"]);

    let missing = ws.run(&["clients", "show", "client_nope"], None);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such client"));
}

#[test]
fn invalid_clients_are_refused_with_the_reason() {
    let ws = Workspace::new();
    for (args, reason) in [
        (
            vec!["--redirect-uri", "http://app.example.com/cb"],
            "loopback",
        ),
        (
            vec!["--redirect-uri", "https://app.example.com/cb#x"],
            "fragment",
        ),
        (
            vec![
                "--redirect-uri",
                "https://app.example.com/cb",
                "--scope",
                "admin",
            ],
            "unknown scope",
        ),
        (
            vec![
                "--redirect-uri",
                "https://app.example.com/cb",
                "--public",
                "--no-pkce",
            ],
            "PKCE",
        ),
        (
            vec![
                "--redirect-uri",
                "https://app.example.com/cb",
                "--grant-type",
                "password",
            ],
            "not supported",
        ),
    ] {
        let mut full = vec!["clients", "create", "--name", "X"];
        full.extend(args);
        let output = ws.run(&full, None);
        assert!(!output.status.success(), "{full:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{full:?}: {stderr}");
    }
}

#[test]
fn a_bad_setting_stops_with_its_name() {
    let ws = Workspace::new();
    let output = Command::new(env!("CARGO_BIN_EXE_auth-server"))
        .arg("migrate")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", ws.dir.join("x.sqlite3").display()),
        )
        .env("SESSION_IDLE_TIMEOUT", "soon")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("SESSION_IDLE_TIMEOUT"));
}

/// `keys list` as (kid, alg, status), newest first.
fn key_statuses(listed: &serde_json::Value) -> Vec<(String, String, String)> {
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let text = |name: &str| k[name].as_str().unwrap().to_owned();
            (text("kid"), text("alg"), text("status"))
        })
        .collect()
}

#[test]
fn keys_are_rotated_and_listed() {
    let ws = Workspace::new();
    let first = ws.json(&["keys", "rotate"]);
    let second = ws.json(&["keys", "rotate"]);
    assert_ne!(first["kid"], second["kid"]);
    assert_eq!(
        second["alg"], "EdDSA",
        "kid and alg name the access-token key"
    );
    let made: Vec<&str> = second["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(made, ["EdDSA", "RS256"], "one key of each algorithm");
    let listed = ws.json(&["keys", "list"]);
    let keys = listed.as_array().unwrap();
    assert_eq!(keys.len(), 4);
    let statuses = key_statuses(&listed);
    for alg in ["EdDSA", "RS256"] {
        let of_alg: Vec<&str> = statuses
            .iter()
            .filter(|(_, a, _)| a == alg)
            .map(|(_, _, status)| status.as_str())
            .collect();
        assert_eq!(
            of_alg,
            ["next", "signing"],
            "{alg}: the new key is published and signs after its warm-up; the previous \
             one signs until then"
        );
    }
    let status_of = |kid: &serde_json::Value| {
        statuses
            .iter()
            .find(|(listed, _, _)| listed == kid.as_str().unwrap())
            .map(|(_, _, status)| status.clone())
    };
    assert_eq!(status_of(&second["kid"]).as_deref(), Some("next"));
    assert_eq!(status_of(&first["kid"]).as_deref(), Some("signing"));
    assert!(
        keys.iter().all(|k| k["encrypted"] == false),
        "no KEY_ENCRYPTION_KEY here"
    );
    assert!(
        keys.iter()
            .filter(|k| k["status"] == "signing")
            .all(|k| !k["retire_after"].is_null()),
        "the keys signing until the new ones warm up are retiring"
    );

    // After a compromise: the previous keys leave the JWKS at once.
    let third = ws.json(&["keys", "rotate", "--retire-previous-now"]);
    let third_kids: Vec<&str> = third["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    let listed = ws.json(&["keys", "list"]);
    for (kid, _, status) in key_statuses(&listed) {
        let expected = if third_kids.contains(&kid.as_str()) {
            "signing"
        } else {
            "retired"
        };
        assert_eq!(status, expected, "{kid}");
    }
    assert!(third_kids.contains(&third["kid"].as_str().unwrap()));
    assert!(!third_kids.contains(&first["kid"].as_str().unwrap()));
}

#[test]
fn resource_servers_and_service_clients_are_registered() {
    let ws = Workspace::new();
    let api = ws.json(&[
        "clients",
        "create",
        "--name",
        "Task API",
        "--resource-server",
    ]);
    assert_eq!(api["resource_server"], true);
    assert_eq!(api["grant_types"], serde_json::json!([]));
    assert!(api["client_secret"].is_string());
    let job = ws.json(&[
        "clients",
        "create",
        "--name",
        "Nightly",
        "--grant-type",
        "client_credentials",
    ]);
    assert_eq!(
        job["grant_types"],
        serde_json::json!(["client_credentials"])
    );
}

#[test]
fn api_keys_are_created_for_a_user() {
    let ws = Workspace::new();
    ws.create_alice();
    let key = ws.json(&[
        "api-keys",
        "create",
        "--user",
        "alice",
        "--scope",
        "tasks:read",
        "--expires-in",
        "7d",
    ]);
    assert!(key["key"].as_str().unwrap().starts_with("tk_"));
    assert_eq!(key["scope"], "tasks:read");
    let missing = ws.run(
        &[
            "api-keys",
            "create",
            "--user",
            "nobody",
            "--scope",
            "tasks:read",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such user"));
    let too_long = ws.run(
        &[
            "api-keys",
            "create",
            "--user",
            "alice",
            "--scope",
            "tasks:read",
            "--expires-in",
            "400d",
        ],
        None,
    );
    assert!(!too_long.status.success());
}

#[test]
fn the_audit_table_is_listed_newest_first_with_filters() {
    let ws = Workspace::new();
    ws.json(&["keys", "list"]); // migrates the new database
    let url = format!("sqlite://{}", ws.dir.join("cli.sqlite3").display());
    let settings = shared::config::Settings::from_values(
        [("DATABASE_URL".to_owned(), url)].into_iter().collect(),
    )
    .unwrap();
    let db = shared::db::Db::connect(&settings.database);
    let mut conn = db.pool().get().unwrap();
    let at = shared::models::now();
    let row = |id: &str, kind: &str, minutes_ago: i64, client: &str| {
        shared::models::audit_event::AuditEventRow {
            id: id.to_owned(),
            at: at - chrono::Duration::minutes(minutes_ago),
            kind: kind.to_owned(),
            user_id: None,
            client_id: Some(client.to_owned()),
            ip: Some(format!("203.0.113.{minutes_ago}")),
            detail: r#"{"known_user":false}"#.to_owned(),
        }
    };
    // Inserted oldest first; listed newest first.
    shared::models::audit_event::AuditEventRow::insert_all(
        &mut conn,
        &[
            row("e1", "login_failure", 120, "client_a"),
            row("e2", "code_replay", 30, "client_b"),
            row("e3", "lockout", 5, "client_a"),
        ],
    )
    .unwrap();

    let all = ws.json(&["audit", "list"]);
    let kinds: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["lockout", "code_replay", "login_failure"]);
    assert_eq!(all[0]["ip"], "203.0.113.5");
    assert_eq!(all[0]["detail"]["known_user"], false);
    let of_b = ws.json(&["audit", "list", "--client", "client_b"]);
    assert_eq!(of_b.as_array().unwrap().len(), 1);
    assert_eq!(of_b[0]["kind"], "code_replay");
    let nobody = ws.run(&["audit", "list", "--user", "nobody"], None);
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no such user"));

    let recent_failures = ws.json(&["audit", "list", "--kind", "login_failure", "--since", "1h"]);
    assert_eq!(
        recent_failures.as_array().unwrap().len(),
        0,
        "the failure was 2 h ago"
    );
    let failures = ws.json(&["audit", "list", "--kind", "login_failure", "--since", "3h"]);
    assert_eq!(failures.as_array().unwrap().len(), 1);
    assert_eq!(
        ws.json(&["audit", "list", "--limit", "2"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let refused = ws.run(&["audit", "list", "--since", "soon"], None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--since"));
}

#[test]
fn logs_go_to_stderr_and_stdout_holds_only_the_json() {
    let ws = Workspace::new();
    let output = ws.run_logging(&["keys", "rotate"], None, "info");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        serde_json::from_str::<serde_json::Value>(&stdout).is_ok(),
        "stdout is one JSON document:\n{stdout}"
    );
    assert!(
        stderr.contains("rotated the token-signing key"),
        "the log line is on stderr:\n{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour codes off a terminal: {stderr}"
    );
}

/// The commands of the clap tree, as `group command` paths (`serve`, `clients create`, ...).
fn commands_of_the_cli() -> std::collections::BTreeSet<String> {
    fn leaves(command: &clap::Command, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
        for sub in command.get_subcommands() {
            let path = format!("{prefix}{}", sub.get_name()).trim().to_owned();
            if sub.get_subcommands().next().is_none() {
                out.insert(path);
            } else {
                leaves(sub, &format!("{path} "), out);
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    leaves(
        &<auth_server::cli::Cli as clap::CommandFactory>::command(),
        "",
        &mut out,
    );
    out
}

#[test]
fn every_command_prints_only_its_json_on_stdout_and_logs_on_stderr() {
    for format in ["pretty", "json"] {
        let ws = Workspace::new();
        let mut covered = std::collections::BTreeSet::new();
        // Runs a command that succeeds; checks both streams; returns its JSON.
        let mut check = |args: &[&str], stdin: Option<&str>, logged: Option<&str>| {
            let output = ws.run_with(
                args,
                stdin,
                &[("RUST_LOG", "debug"), ("LOG_FORMAT", format)],
            );
            let stdout = String::from_utf8(output.stdout).unwrap();
            let stderr = String::from_utf8(output.stderr).unwrap();
            assert!(output.status.success(), "{args:?}: {stderr}");
            let json = serde_json::from_str::<serde_json::Value>(&stdout).unwrap_or_else(|e| {
                panic!("{format}: {args:?}: stdout is not one JSON document ({e}):\n{stdout}")
            });
            assert!(
                !stdout.contains('\u{1b}'),
                "{format}: {args:?}: no escape codes on stdout"
            );
            assert!(
                !stderr.contains('\u{1b}'),
                "{format}: {args:?}: no colour codes off a terminal:\n{stderr}"
            );
            if let Some(logged) = logged {
                assert!(
                    stderr.contains(logged),
                    "{format}: {args:?}: the log line is on stderr:\n{stderr}"
                );
            }
            if format == "json" {
                for line in stderr.lines() {
                    assert!(
                        serde_json::from_str::<serde_json::Value>(line).is_ok(),
                        "{args:?}: each log line is a JSON object: {line}"
                    );
                }
            }
            covered.insert(args.iter().take(2).copied().collect::<Vec<_>>().join(" "));
            json
        };

        check(
            &[
                "users",
                "create",
                "--username",
                "alice",
                "--email",
                "alice@example.com",
            ],
            Some("violet-anchor-tundra-42\n"),
            Some("account_created"),
        );
        let client = check(
            &[
                "clients",
                "create",
                "--name",
                "App",
                "--redirect-uri",
                "https://app.example.com/cb",
            ],
            None,
            None,
        );
        let id = client["client_id"].as_str().unwrap().to_owned();
        check(&["clients", "list"], None, None);
        check(&["clients", "show", &id], None, None);
        check(&["clients", "disable", &id], None, None);
        check(&["clients", "enable", &id], None, None);
        check(&["clients", "rotate-secret", &id], None, None);
        check(
            &["keys", "rotate"],
            None,
            Some("rotated the token-signing key"),
        );
        check(&["keys", "list"], None, None);
        check(
            &[
                "api-keys",
                "create",
                "--user",
                "alice",
                "--scope",
                "tasks:read",
            ],
            None,
            Some("api_key_created"),
        );
        check(
            &["users", "reset-password", "--username", "alice"],
            None,
            Some("password_reset_link_issued"),
        );
        check(&["users", "disable-mfa", "--username", "alice"], None, None);
        check(
            &["users", "delete", "--username", "alice"],
            None,
            Some("account_deleted"),
        );
        check(&["audit", "list"], None, None);
        let copy = ws.dir.join(format!("backup-{format}.sqlite3"));
        check(
            &["backup", "--to", copy.to_str().unwrap()],
            None,
            Some("database backed up"),
        );
        // One word, not a group: `backup --to` is the command `backup`.
        covered.remove("backup --to");
        covered.insert("backup".to_owned());

        // `doctor` in development has high findings (http issuer, no KEY_ENCRYPTION_KEY):
        // exit 5, its report on stdout all the same.
        let doctor = ws.run_with(
            &["doctor", "--format", "json"],
            None,
            &[("RUST_LOG", "debug"), ("LOG_FORMAT", format)],
        );
        assert_eq!(doctor.status.code(), Some(5));
        let report: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
        assert!(report["summary"]["high"].as_u64().unwrap() >= 1, "{report}");
        assert!(!String::from_utf8_lossy(&doctor.stderr).contains('\u{1b}'));
        covered.insert("doctor".to_owned());

        // `migrate` prints a sentence, not JSON; `serve` runs the server (its log is tested
        // in request_log.rs).
        let migrate = ws.run_with(
            &["migrate"],
            None,
            &[("RUST_LOG", "debug"), ("LOG_FORMAT", format)],
        );
        assert!(migrate.status.success());
        let stdout = String::from_utf8(migrate.stdout).unwrap();
        assert!(stdout.starts_with("database is up to date"), "{stdout}");
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        assert!(!String::from_utf8_lossy(&migrate.stderr).contains('\u{1b}'));
        covered.extend(["migrate".to_owned(), "serve".to_owned()]);

        assert_eq!(
            covered,
            commands_of_the_cli(),
            "every command of the CLI is checked here"
        );
    }
}

#[test]
fn the_exit_code_tells_what_kind_of_failure_it_was() {
    let ws = Workspace::new();
    let code = |args: &[&str], stdin: Option<&str>| ws.run(args, stdin).status.code();
    let alice = [
        "users",
        "create",
        "--username",
        "alice",
        "--email",
        "alice@example.com",
    ];

    // 2: an argument or the input is refused.
    let insecure = [
        "clients",
        "create",
        "--name",
        "X",
        "--redirect-uri",
        "http://app.example.com/cb",
    ];
    assert_eq!(code(&insecure, None), Some(2));
    assert_eq!(code(&["audit", "list", "--since", "soon"], None), Some(2));
    assert_eq!(code(&["audit", "list", "--limit", "0"], None), Some(2));
    assert_eq!(
        code(&alice, Some("password1234")),
        Some(2),
        "a weak password"
    );
    assert_eq!(
        code(&["clients", "frobnicate"], None),
        Some(2),
        "clap's usage error"
    );

    // 3: what is named does not exist.
    for missing in [
        &["clients", "show", "client_nope"][..],
        &["clients", "disable", "client_nope"],
        &["clients", "enable", "client_nope"],
        &["clients", "rotate-secret", "client_nope"],
        &[
            "api-keys",
            "create",
            "--user",
            "nobody",
            "--scope",
            "tasks:read",
        ],
        &["audit", "list", "--user", "nobody"],
    ] {
        assert_eq!(code(missing, None), Some(3), "{missing:?}");
    }

    // 4: it exists already.
    assert_eq!(code(&alice, Some("violet-anchor-tundra-42")), Some(0));
    assert_eq!(code(&alice, Some("violet-anchor-tundra-42")), Some(4));

    // 69 (EX_UNAVAILABLE): the database cannot be reached (nothing listens on port 1).
    let unreachable = [
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/cli"),
        ("DATABASE_TIMEOUT", "1s"),
    ];
    for command in [&["keys", "list"][..], &["migrate"]] {
        let down = ws.run_with(command, None, &unreachable);
        assert_eq!(down.status.code(), Some(69), "{command:?}");
        assert!(String::from_utf8_lossy(&down.stderr).contains("cannot connect to the database"));
    }

    // 1: anything else, such as a server that cannot listen on its address.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let serve = ws.run_with(&["serve"], None, &[("AUTH_SERVER_BIND", &address)]);
    let stderr = String::from_utf8_lossy(&serve.stderr);
    assert_eq!(serve.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot listen"), "{stderr}");
}

/// The settings of a production deployment that `doctor` has nothing high to say about.
fn production_settings(ws: &Workspace) -> Vec<(&'static str, String)> {
    vec![
        ("APP_ENV", "production".into()),
        ("ISSUER", "https://auth.example.com".into()),
        ("RESOURCE_API_URL", "https://api.example.com".into()),
        (
            "KEY_ENCRYPTION_KEY",
            "Zx8q3LmV0pT6rW2bN9cY4hJ7kD1fG5sA".into(),
        ),
        (
            "MAIL_TRANSPORT",
            format!("file:{}", ws.dir.join("mail").display()),
        ),
        ("REDIS_URL", "redis://127.0.0.1:6379".into()),
        ("TRUST_PROXY_HEADERS", "true".into()),
    ]
}

#[test]
fn doctor_grades_the_configuration_and_the_database() {
    let ws = Workspace::new();
    let settings = production_settings(&ws);
    let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let doctor = |extra: &[(&str, &str)]| {
        let mut all = env.clone();
        all.extend_from_slice(extra);
        let output = ws.run_with(&["doctor", "--format", "json"], None, &all);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
        let found: Vec<(String, String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["severity"].as_str().unwrap().to_owned(),
                    f["check"].as_str().unwrap().to_owned(),
                    f["subject"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        (output.status.code(), found, report)
    };
    let sql = |statement: &str| {
        use diesel::{Connection as _, RunQueryDsl as _};
        let path = ws.dir.join("cli.sqlite3");
        let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        diesel::sql_query(statement).execute(&mut conn).unwrap();
    };
    let has = |found: &[(String, String, String)], severity: &str, check: &str, subject: &str| {
        found
            .iter()
            .any(|(s, c, x)| s == severity && c == check && x == subject)
    };

    // A sound production configuration: only that SQLite serves one instance.
    let (code, found, _) = doctor(&[]);
    assert_eq!(code, Some(0), "{found:?}");
    assert_eq!(
        found,
        vec![(
            "low".to_owned(),
            "sqlite-in-production".to_owned(),
            "DATABASE_URL".to_owned()
        )]
    );

    // Settings looser than the defaults, and a weak key-encryption key: named, not shown.
    let weak = "passwordpasswordpasswordpassword";
    let (code, found, report) = doctor(&[
        ("KEY_ENCRYPTION_KEY", weak),
        ("LOGIN_LOCKOUT", "1m"),
        ("RATE_LIMITS", "off"),
    ]);
    assert_eq!(code, Some(5));
    assert!(has(
        &found,
        "high",
        "key-encryption-key-weak",
        "KEY_ENCRYPTION_KEY"
    ));
    assert!(has(&found, "high", "rate-limits-off", "RATE_LIMITS"));
    assert!(has(
        &found,
        "medium",
        "looser-than-default",
        "LOGIN_LOCKOUT"
    ));
    assert!(!report.to_string().contains(weak), "{report}");

    // A client with PKCE relaxed is medium; one registered by an older version with a
    // plain-http redirect URI is high; a confidential client unused for 200 days is medium.
    let relaxed = ws.json(&[
        "clients",
        "create",
        "--name",
        "Relaxed",
        "--redirect-uri",
        "https://relaxed.example.com/cb",
        "--no-pkce",
    ]);
    let relaxed = relaxed["client_id"].as_str().unwrap();
    let stale = ws.json(&[
        "clients",
        "create",
        "--name",
        "Stale",
        "--redirect-uri",
        "https://stale.example.com/cb",
    ]);
    let stale = stale["client_id"].as_str().unwrap();
    sql(&format!(
        "UPDATE clients SET redirect_uris = 'http://stale.example.com/cb', \
         created_at = datetime('now', '-200 days'), updated_at = datetime('now', '-200 days') \
         WHERE client_id = '{stale}'"
    ));
    let (code, found, _) = doctor(&[]);
    assert_eq!(code, Some(5), "{found:?}");
    assert!(has(&found, "medium", "client-pkce-relaxed", relaxed));
    assert!(has(&found, "high", "redirect-uri-invalid", stale));
    assert!(has(&found, "medium", "client-unused", stale));
    assert!(
        !found
            .iter()
            .any(|(_, c, x)| c == "client-unused" && x == relaxed)
    );

    // Recorded use clears `client-unused`; disabling clears every finding of a client.
    sql(&format!(
        "INSERT INTO client_usage (client_id, last_used_at) VALUES ('{stale}', datetime('now', '-2 days'))"
    ));
    let (_, found, _) = doctor(&[]);
    assert!(
        !found.iter().any(|(_, c, _)| c == "client-unused"),
        "{found:?}"
    );
    assert!(
        ws.run_with(&["clients", "disable", stale], None, &env)
            .status
            .success()
    );
    let (code, found, _) = doctor(&[]);
    assert_eq!(code, Some(0), "{found:?}");

    // A signing key that has signed for 100 days; one stored before the KEK was set.
    assert!(ws.run(&["keys", "rotate"], None).status.success());
    sql("UPDATE signing_keys SET created_at = datetime('now', '-100 days')");
    let (code, found, _) = doctor(&[]);
    assert_eq!(code, Some(5), "{found:?}");
    assert!(
        found
            .iter()
            .any(|(s, c, _)| s == "medium" && c == "signing-key-old")
    );
    assert!(
        found
            .iter()
            .any(|(s, c, _)| s == "high" && c == "signing-key-unencrypted")
    );

    // The text report says the same for a person.
    let text = ws.run_with(&["doctor"], None, &env);
    assert_eq!(text.status.code(), Some(5));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.starts_with("auth-server doctor: "), "{text}");
    assert!(text.contains("HIGH    signing-key-unencrypted"), "{text}");
    assert!(
        text.contains("remedy: run `auth-server keys rotate"),
        "{text}"
    );
}

#[test]
fn backup_copies_the_sqlite_database_and_never_overwrites() {
    use diesel::{Connection as _, QueryableByName, RunQueryDsl as _};
    let ws = Workspace::new();
    ws.create_alice();
    let copy = ws.dir.join("copy.sqlite3");
    let copy_arg = copy.to_str().unwrap();
    let made = ws.json(&["backup", "--to", copy_arg]);
    assert_eq!(made["backup"], copy_arg);
    assert!(made["bytes"].as_u64().unwrap() > 0);

    // The copy is a database of its own with alice in it.
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        username: String,
    }
    let mut conn = diesel::SqliteConnection::establish(copy_arg).unwrap();
    let names: Vec<Name> = diesel::sql_query("SELECT username FROM users")
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        names
            .iter()
            .map(|n| n.username.as_str())
            .collect::<Vec<_>>(),
        ["alice"]
    );

    // Never over an existing file: exit 4, the file untouched.
    let before = std::fs::read(&copy).unwrap();
    let again = ws.run(&["backup", "--to", copy_arg], None);
    assert_eq!(again.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    assert_eq!(std::fs::read(&copy).unwrap(), before);
}
