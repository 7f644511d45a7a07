//! Several instances of each server on one database (README, "Scaling out"): two
//! auth-servers and two task APIs, requests alternating between them. A token from either
//! auth-server is accepted by both task APIs; a revocation made through one auth-server is
//! refused by both task APIs within a second; a key rotated in the database is taken up by
//! both auth-servers with no failed request. With one Redis, the rate-limit budgets are
//! one for all instances; with Redis stopped, every instance goes on serving.

use std::time::{Duration, Instant};

use crate::support::database::TestDatabase;
use crate::support::oauth_client::{ClientOptions, field, service_client};
use crate::support::redis::PrivateRedis;
use crate::support::servers::{TestApp, spawn_app_on, test_settings};

/// A task API instance on `url` that reads `auth`'s JWKS; its address.
async fn task_api(url: &str, auth: &TestApp, overrides: &[(&str, &str)]) -> String {
    let jwks_url = format!("{}/jwks.json", auth.address);
    let mut settings = overrides.to_vec();
    settings.push(("JWKS_URL", &jwks_url));
    let api = resource_api::startup::build(test_settings(url, &settings))
        .await
        .expect("resource-api starts");
    let address = format!("http://127.0.0.1:{}", api.port());
    actix_web::rt::spawn(api.run_until_stopped());
    address
}

async fn list_tasks(api: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{api}/api/tasks"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// Two auth-servers on one fresh database, and a task API reading each one's JWKS.
async fn two_of_each(overrides: &[(&str, &str)]) -> (TestApp, TestApp, [String; 2]) {
    let (database, url) = TestDatabase::create();
    let first = spawn_app_on(database, &url, overrides).await;
    let second = first.another_instance(overrides).await;
    let apis = [
        task_api(&url, &first, overrides).await,
        task_api(&url, &second, overrides).await,
    ];
    (first, second, apis)
}

#[actix_web::test]
async fn two_auth_servers_and_two_task_apis_act_as_one() {
    let overrides = [("SIGNING_KEYS_RELOAD", "1s")];
    let (first, second, apis) = two_of_each(&overrides).await;
    let auths = [&first, &second];

    let client = first.register_client(ClientOptions::default()).await;
    let tokens = first
        .signed_in_user("alice")
        .await
        .tokens_for(&client)
        .await;
    let mut access = field(&tokens, "access_token");
    let mut refresh = field(&tokens, "refresh_token");
    for api in &apis {
        assert_eq!(list_tasks(api, &access).await, 200, "{api}");
    }

    // A refresh chain alternating between the auth-servers, each token used at both task
    // APIs, while a new signing key is stored: no request fails, and both auth-servers
    // sign with the new key within their reload period.
    let old_kid = kid(&access);
    let mut new_kid = None;
    let started = Instant::now();
    let mut i = 0;
    loop {
        if i == 3 {
            let rotated = first
                .db
                .run(|conn| {
                    auth_server::oauth::keys::rotate(
                        conn,
                        None,
                        shared::models::now() + chrono::Duration::minutes(20),
                    )
                })
                .await
                .expect("rotated");
            new_kid = rotated
                .into_iter()
                .find(|row| row.alg == "EdDSA")
                .map(|row| row.kid);
        }
        let issuer = auths[i % 2];
        let response = issuer.refresh(&client, &refresh, None).await;
        assert_eq!(response.status(), 200, "refresh {i} at instance {}", i % 2);
        let body: serde_json::Value = response.json().await.unwrap();
        access = field(&body, "access_token");
        refresh = field(&body, "refresh_token");
        for api in &apis {
            assert_eq!(list_tasks(api, &access).await, 200, "request {i} at {api}");
        }
        let signed_by_new = new_kid.as_deref() == Some(kid(&access).as_str());
        if i >= 5 && signed_by_new && i % 2 == 1 {
            // The second instance signs with the new key too (and the first did before).
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no reload after 10 s"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        i += 1;
    }
    assert_ne!(kid(&access), old_kid);

    // Revoked through the second auth-server: both task APIs refuse it within a second.
    let revoked = second.revoke(&client, &access).await;
    assert_eq!(revoked.status(), 200);
    let revoked_at = Instant::now();
    for api in &apis {
        loop {
            if list_tasks(api, &access).await == 401 {
                break;
            }
            assert!(
                revoked_at.elapsed() < Duration::from_secs(1),
                "{api} still accepts the revoked token after 1 s"
            );
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// The answer `request` gets, which must come within two seconds.
async fn promptly(request: impl std::future::Future<Output = u16>) -> u16 {
    let started = Instant::now();
    let status = request.await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered after {:?}",
        started.elapsed()
    );
    status
}

/// A `client_credentials` token request at `auth`: its status.
async fn service_token_status(
    auth: &TestApp,
    service: &crate::support::oauth_client::TestClient,
) -> u16 {
    auth.token_request(service, &[("grant_type", "client_credentials".to_owned())])
        .await
        .status()
        .as_u16()
}

#[actix_web::test]
async fn one_redis_gives_all_instances_one_budget_and_losing_it_stops_none() {
    if std::env::var("TEST_REDIS_URL").is_err() {
        eprintln!("TEST_REDIS_URL is not set: skipping the shared-Redis instances test");
        return;
    }
    let mut redis = PrivateRedis::start();
    let overrides = [
        ("REDIS_URL", redis.url.as_str()),
        ("RATE_LIMIT_PER_CLIENT", "4/1m"),
        ("RATE_LIMIT_PER_USER", "6/1m"),
    ];
    let (first, second, apis) = two_of_each(&overrides).await;
    let auths = [&first, &second];

    // One budget of 4 tokens a minute for the client, spent alternately at both.
    let service = first.register_client(service_client()).await;
    for i in 0..4 {
        assert_eq!(
            service_token_status(auths[i % 2], &service).await,
            200,
            "token {i}"
        );
    }
    for auth in auths {
        assert_eq!(
            service_token_status(auth, &service).await,
            429,
            "the shared budget is spent"
        );
    }

    // One budget of 6 requests a minute for the user, spent alternately at both APIs.
    let client = first.register_client(ClientOptions::default()).await;
    let access = field(
        &first
            .signed_in_user("alice")
            .await
            .tokens_for(&client)
            .await,
        "access_token",
    );
    for i in 0..6 {
        assert_eq!(list_tasks(&apis[i % 2], &access).await, 200, "request {i}");
    }
    for api in &apis {
        assert_eq!(
            list_tasks(api, &access).await,
            429,
            "{api}: the shared budget is spent"
        );
    }

    // Redis gone: every instance answers at once, counting by itself (a fresh client and a
    // fresh user have budget left everywhere).
    redis.stop();
    let fresh_service = second.register_client(service_client()).await;
    let fresh_access = field(
        &second.signed_in_user("bob").await.tokens_for(&client).await,
        "access_token",
    );
    for round in 0..2 {
        for auth in auths {
            let status = promptly(service_token_status(auth, &fresh_service)).await;
            assert_eq!(status, 200, "round {round}");
        }
        for api in &apis {
            let status = promptly(list_tasks(api, &fresh_access)).await;
            assert_eq!(status, 200, "round {round} at {api}");
        }
    }
}
