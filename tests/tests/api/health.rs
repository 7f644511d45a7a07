//! `/healthz` and `/readyz`, including a database outage and the recovery after it.

use std::time::Duration;

use crate::support::browser::PASSWORD;
use crate::support::database::TestDatabase;
use crate::support::servers::{spawn_app, spawn_app_on};

#[actix_web::test]
async fn health_and_readiness_answer_ok_with_a_database() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let health = visitor.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );

    let ready = visitor.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
}

/// A port on loopback that nothing listens on (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `postgres://user@host:5432/db` → the same URL on `port`.
fn with_port(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (userinfo, hostport) = authority
        .rsplit_once('@')
        .map_or(("", authority), |(u, h)| (u, h));
    let host = hostport.rsplit_once(':').map_or(hostport, |(h, _)| h);
    let at = if userinfo.is_empty() {
        String::new()
    } else {
        format!("{userinfo}@")
    };
    format!("{scheme}://{at}{host}:{port}/{path}")
}

/// A TCP proxy in front of the database: stopping it cuts every connection, as a
/// database restart or a network failure would.
struct TcpProxy {
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl TcpProxy {
    async fn start(listen_port: u16, target: String) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", listen_port))
            .await
            .unwrap();
        let tasks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let registry = tasks.clone();
        let accept = actix_web::rt::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let forward = actix_web::rt::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _closed =
                            tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                registry.lock().unwrap().push(forward);
            }
        });
        tasks.lock().unwrap().push(accept);
        Self { tasks }
    }

    /// Stops listening and drops every forwarded connection.
    fn stop(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// `host:port` of a database URL.
fn host_port(url: &str) -> String {
    let authority = url.split_once("://").unwrap().1.split('/').next().unwrap();
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_owned()
}

#[actix_web::test]
async fn readiness_is_503_while_the_database_is_unreachable_and_recovers_by_itself() {
    let (database, real_url) = TestDatabase::create();
    // An unreachable database: a PostgreSQL port nobody listens on, or a SQLite file whose
    // folder cannot be created because a plain file stands where the folder should be.
    let (url, blocker, proxy_port) = if database.is_postgres() {
        let port = free_port();
        (with_port(&real_url, port), None, Some(port))
    } else {
        let base =
            std::env::temp_dir().join(format!("oauth-outage-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&base).unwrap();
        let blocker = base.join("blocked");
        std::fs::write(&blocker, "not a folder").unwrap();
        (
            format!("sqlite://{}", blocker.join("db.sqlite3").display()),
            Some(base),
            None,
        )
    };
    let app = spawn_app_on(database, &url, &[]).await;
    let visitor = app.visitor();

    assert_eq!(
        visitor.get("/healthz").await.status(),
        200,
        "the process itself is fine"
    );
    let ready = visitor.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.headers()["retry-after"], "5");
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["status"],
        "unavailable"
    );

    // Pages that need the database answer 503 with a page that says so; nothing is written.
    let register = visitor
        .register("outage", "outage@example.com", PASSWORD)
        .await;
    assert_eq!(register.status(), 503);
    assert!(
        register
            .text()
            .await
            .unwrap()
            .contains("cannot reach its database")
    );

    // Nor do the recovery pages pretend: no "check your email" when nothing could be
    // looked up, and no link judged dead when it could not be read.
    let csrf = visitor.csrf_from("/forgot-password").await;
    let forgot = visitor
        .post_form(
            "/forgot-password",
            &[("csrf_token", &csrf), ("login", "outage")],
        )
        .await;
    assert_eq!(forgot.status(), 503);
    // A waiting two-factor sign-in is not judged expired when it could not be read.
    let held = visitor
        .post_form(
            "/login/two-factor",
            &[
                ("csrf_token", &csrf),
                ("held", "mfa_unreadable"),
                ("code", "123456"),
            ],
        )
        .await;
    assert_eq!(held.status(), 503);
    for link in [
        "/reset-password?token=pr_unreadable",
        "/verify-email?token=ev_unreadable",
    ] {
        assert_eq!(visitor.get(link).await.status(), 503, "{link}");
    }

    // The database comes back: no restart needed.
    match (blocker, proxy_port) {
        (Some(base), _) => {
            std::fs::remove_file(base.join("blocked")).unwrap();
        }
        (None, Some(port)) => {
            // Kept running until the test ends: the database is back for good.
            let _running = TcpProxy::start(port, host_port(&real_url)).await;
        }
        _ => unreachable!(),
    }
    let mut ready = false;
    for _ in 0..40 {
        if visitor.get("/readyz").await.status() == 200 {
            ready = true;
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(ready, "readiness recovers once the database is reachable");

    let register = app
        .visitor()
        .register("outage", "outage@example.com", PASSWORD)
        .await;
    assert_eq!(
        register.status(),
        303,
        "the refused registration left nothing behind"
    );
}

#[actix_web::test]
async fn a_database_that_drops_every_connection_is_survived() {
    let (database, real_url) = TestDatabase::create();
    if !database.is_postgres() {
        // A SQLite file has no connections to cut; the test above covers it.
        return;
    }
    let port = free_port();
    let proxy = TcpProxy::start(port, host_port(&real_url)).await;
    let app = spawn_app_on(database, &with_port(&real_url, port), &[]).await;
    let visitor = app.visitor();
    app.create_user("alice").await;
    assert_eq!(app.visitor().login("alice", PASSWORD).await.status(), 303);

    // The database goes away: every pooled connection is cut.
    proxy.stop();
    assert_eq!(visitor.get("/readyz").await.status(), 503);
    assert_eq!(app.visitor().login("alice", PASSWORD).await.status(), 503);

    // It comes back: service resumes without a restart, and no request sees a 500.
    let _proxy = TcpProxy::start(port, host_port(&real_url)).await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let status = app
            .visitor()
            .login("alice", PASSWORD)
            .await
            .status()
            .as_u16();
        statuses.push(status);
        if status == 303 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(statuses.last(), Some(&303), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 303 || *s == 503),
        "{statuses:?}"
    );
    assert_eq!(visitor.get("/readyz").await.status(), 200);
}

/// A SQLite URL that cannot be opened: a plain file stands where its folder should be.
fn unreachable_sqlite() -> (String, std::path::PathBuf) {
    let base = std::env::temp_dir().join(format!("oauth-down-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(base.join("blocked"), "not a folder").unwrap();
    (
        format!(
            "sqlite://{}",
            base.join("blocked").join("db.sqlite3").display()
        ),
        base,
    )
}

#[actix_web::test]
async fn oauth_endpoints_answer_temporarily_unavailable_without_a_database() {
    let (url, base) = unreachable_sqlite();
    let (unused, _) = TestDatabase::create();
    let app = spawn_app_on(unused, &url, &[]).await;
    let visitor = app.visitor();

    let token = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth("client_x", Some("cs_secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 503);
    assert_eq!(token.headers()["cache-control"], "no-store");
    assert_eq!(token.headers()["retry-after"], "5");
    let body: serde_json::Value = token.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");

    assert_eq!(
        visitor.get("/jwks.json").await.status(),
        503,
        "no keys could be loaded"
    );
    let authorize = visitor
        .get("/authorize?client_id=client_x&response_type=code")
        .await;
    assert_eq!(authorize.status(), 503);
    assert!(authorize.headers().get("location").is_none());
    std::fs::remove_dir_all(base).unwrap();
}

#[actix_web::test]
async fn the_task_api_answers_503_problem_details_without_a_database() {
    // A working auth-server issues the token; the task API's own database is unreachable.
    let stack = crate::support::servers::spawn_stack().await;
    let token = crate::support::tokens::user_token(&stack, "tasks:read tasks:write").await;
    let (url, base) = unreachable_sqlite();
    let jwks_url = format!("{}/jwks.json", stack.auth.address);
    let settings = crate::support::servers::test_settings(&url, &[("JWKS_URL", &jwks_url)]);
    let api = resource_api::startup::build(settings).await.unwrap();
    let api_url = format!("http://127.0.0.1:{}", api.port());
    actix_web::rt::spawn(api.run_until_stopped());

    let client = reqwest::Client::new();
    let list = client
        .get(format!("{api_url}/api/tasks"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 503);
    assert_eq!(list.headers()["content-type"], "application/problem+json");
    assert_eq!(list.headers()["retry-after"], "5");
    let created = client
        .post(format!("{api_url}/api/tasks"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "title": "lost?" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 503);
    let key = client
        .get(format!("{api_url}/api/tasks"))
        .bearer_auth(format!("tk_{}", "A".repeat(43)))
        .send()
        .await
        .unwrap();
    assert_eq!(key.status(), 503, "an API key cannot be checked either");
    assert_eq!(
        client
            .get(format!("{api_url}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    std::fs::remove_dir_all(base).unwrap();
}
