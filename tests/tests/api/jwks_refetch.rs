//! SECURITY.md 18: a token with an unknown `kid` makes the task API fetch the JWKS again,
//! at most once a second — counted at a JWKS server that stands between the task API and
//! the auth-server, serving the auth-server's real key set.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use reqwest::Method;

use crate::support::database::TestDatabase;
use crate::support::servers::{TestStack, spawn_app_on, test_settings};
use crate::support::tokens::{claims, sign, signing_key, user_token};

/// The auth-server, a JWKS server counting its requests, and the task API fetching from it.
async fn stack_with_counted_jwks() -> (TestStack, Arc<AtomicUsize>) {
    let (database, url) = TestDatabase::create();
    let auth = spawn_app_on(database, &url, &[]).await;
    let jwks = auth.visitor().get("/jwks.json").await.text().await.unwrap();
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = fetches.clone();
    let server = HttpServer::new(move || {
        let (jwks, counted) = (jwks.clone(), counted.clone());
        App::new().route(
            "/jwks.json",
            web::get().to(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                let body = jwks.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(body)
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let jwks_url = format!("http://127.0.0.1:{}/jwks.json", server.addrs()[0].port());
    actix_web::rt::spawn(server.run());
    // The periodic refresh must not run during the test; only unknown kids fetch.
    let settings = test_settings(
        &url,
        &[("JWKS_URL", &jwks_url), ("SIGNING_KEYS_RELOAD", "1h")],
    );
    let api = resource_api::startup::build(settings).await.unwrap();
    let api_address = format!("http://127.0.0.1:{}", api.port());
    actix_web::rt::spawn(api.run_until_stopped());
    (
        TestStack {
            auth,
            api_address,
            api_metrics_address: None,
        },
        fetches,
    )
}

async fn status_of(stack: &TestStack, token: &str) -> u16 {
    stack
        .api(Method::GET, "/api/tasks", Some(token))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[actix_web::test]
async fn unknown_kids_refetch_the_jwks_at_most_once_a_second() {
    let (stack, fetches) = stack_with_counted_jwks().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while fetches.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "the fetch at startup");
    let token = user_token(&stack, "tasks:read").await;
    assert_eq!(
        status_of(&stack, &token).await,
        200,
        "the keys came through the counting server"
    );
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "a known kid fetches nothing"
    );

    // Well-signed tokens naming kids the issuer never published, all at once.
    let (key, _kid) = signing_key(&stack).await;
    let forged = |n: usize| {
        sign(
            &key,
            &format!("unknown-{n}"),
            &claims(serde_json::json!({})),
        )
    };
    let tokens: Vec<String> = (0..30).map(forged).collect();
    let started = Instant::now();
    let statuses =
        futures_util::future::join_all(tokens.iter().map(|token| status_of(&stack, token))).await;
    let elapsed = started.elapsed();
    assert!(statuses.iter().all(|status| *status == 401), "{statuses:?}");
    let burst = fetches.load(Ordering::SeqCst) - 1;
    assert!(burst >= 1, "the first unknown kid fetches the JWKS again");
    // One fetch per second begun (the burst takes milliseconds on an idle machine).
    let allowed = 1 + usize::try_from(elapsed.as_secs()).unwrap();
    assert!(
        burst <= allowed,
        "{burst} fetches for 30 unknown kids in {elapsed:?}"
    );

    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    let before = fetches.load(Ordering::SeqCst);
    assert_eq!(status_of(&stack, &forged(99)).await, 401);
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        before + 1,
        "a second later, an unknown kid fetches again"
    );
}
