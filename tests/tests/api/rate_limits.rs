//! Rate limits (SECURITY.md 26): per IP on every endpoint and stricter on sign-in, sign-up
//! (a sliding window) and the token endpoint; per client on `/token`; per user on the task
//! API; 429 with `Retry-After` and `RateLimit-*`; a block for an IP that keeps going; and
//! limits shared by instances through Redis (`TEST_REDIS_URL`), falling back to per-instance
//! limits while Redis is down.

use reqwest::Method;

use crate::support::browser::TestUser;
use crate::support::oauth_client::service_client;
use crate::support::redis::PrivateRedis;
use crate::support::servers::{spawn_app_with, spawn_stack_with};
use crate::support::tokens::user_token;

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn retry_after(response: &reqwest::Response) -> u64 {
    header(response, "retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap()
}

async fn failed_sign_in(visitor: &TestUser) -> reqwest::Response {
    visitor.login("nobody", "wrong-password-123").await
}

#[actix_web::test]
async fn sign_in_attempts_beyond_the_limit_get_a_429_page() {
    let app = spawn_app_with(&[("RATE_LIMIT_LOGIN", "3/1m")]).await;
    let visitor = app.visitor();
    for _ in 0..3 {
        assert_ne!(failed_sign_in(&visitor).await.status(), 429);
    }
    let refused = failed_sign_in(&visitor).await;
    assert_eq!(refused.status(), 429);
    assert!(
        (1..=20).contains(&retry_after(&refused)),
        "one attempt comes back every 20 s"
    );
    assert_eq!(header(&refused, "ratelimit-limit"), Some("3"));
    assert_eq!(header(&refused, "ratelimit-remaining"), Some("0"));
    assert!(
        header(&refused, "content-security-policy").is_some(),
        "still a page of ours"
    );
    let page = refused.text().await.unwrap();
    assert!(page.contains("Too many requests"), "{page}");

    // Showing the form is not an attempt.
    let form = visitor.get("/login").await;
    assert_eq!(form.status(), 200);
    assert!(
        header(&form, "ratelimit-remaining").is_some(),
        "every answer tells the budget"
    );
}

#[actix_web::test]
async fn sign_ups_are_limited_per_ip_in_a_sliding_window() {
    let app = spawn_app_with(&[("RATE_LIMIT_REGISTER", "2/1h")]).await;
    let password = "violet-anchor-tundra-42";
    for name in ["first", "second"] {
        let response = app
            .visitor()
            .register(name, &format!("{name}@example.com"), password)
            .await;
        assert_eq!(response.status(), 303, "{name} signed up");
    }
    let refused = app
        .visitor()
        .register("third", "third@example.com", password)
        .await;
    assert_eq!(refused.status(), 429);
    assert!(retry_after(&refused) > 3000, "the window is an hour");
    let stored: i64 = app
        .query(|c| {
            use diesel::prelude::*;
            shared::schema::users::table.count().get_result(c)
        })
        .await;
    assert_eq!(stored, 2, "the refused sign-up wrote nothing");
}

#[actix_web::test]
async fn the_token_endpoint_limits_each_client_with_an_oauth_error() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_CLIENT", "2/1m")]).await;
    let busy = app.register_client(service_client()).await;
    let other = app.register_client(service_client()).await;
    let grant = [("grant_type", "client_credentials".to_owned())];
    for _ in 0..2 {
        assert_eq!(app.token_request(&busy, &grant).await.status(), 200);
    }
    let refused = app.token_request(&busy, &grant).await;
    assert_eq!(refused.status(), 429);
    assert!(retry_after(&refused) >= 1);
    assert_eq!(
        header(&refused, "ratelimit-limit"),
        Some("2"),
        "the client's limit, not the IP's"
    );
    assert_eq!(header(&refused, "ratelimit-remaining"), Some("0"));
    assert_eq!(header(&refused, "cache-control"), Some("no-store"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert_eq!(
        app.token_request(&other, &grant).await.status(),
        200,
        "another client has its own budget"
    );
}

#[actix_web::test]
async fn the_task_api_limits_each_user() {
    let stack = spawn_stack_with(&[("RATE_LIMIT_PER_USER", "3/1m")]).await;
    let alice = user_token(&stack, "tasks:read").await;
    let bob = user_token(&stack, "tasks:read").await;
    for remaining in ["2", "1", "0"] {
        let response = stack
            .api(Method::GET, "/api/tasks", Some(&alice))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "ratelimit-limit"), Some("3"));
        assert_eq!(header(&response, "ratelimit-remaining"), Some(remaining));
    }
    let refused = stack
        .api(Method::GET, "/api/tasks", Some(&alice))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    assert!(retry_after(&refused) >= 1);
    assert_eq!(
        header(&refused, "ratelimit-limit"),
        Some("3"),
        "the user's limit"
    );
    assert_eq!(header(&refused, "ratelimit-remaining"), Some("0"));
    assert_eq!(
        header(&refused, "content-type"),
        Some("application/problem+json")
    );
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem["status"], 429);
    let other = stack
        .api(Method::GET, "/api/tasks", Some(&bob))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200, "another user has their own budget");
}

#[actix_web::test]
async fn every_request_counts_per_ip_except_health_probes() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_IP", "5/1m")]).await;
    let visitor = app.visitor();
    for _ in 0..5 {
        assert_eq!(visitor.get("/login").await.status(), 200);
    }
    assert_eq!(visitor.get("/login").await.status(), 429);
    assert_eq!(
        visitor.get("/jwks.json").await.status(),
        429,
        "the budget is the IP's"
    );
    assert_eq!(visitor.get("/healthz").await.status(), 200);
    assert_eq!(visitor.get("/readyz").await.status(), 200);
}

#[actix_web::test]
async fn an_ip_that_keeps_going_is_blocked_everywhere_for_a_while() {
    let app = spawn_app_with(&[("RATE_LIMIT_LOGIN", "1/1m"), ("RATE_LIMIT_BLOCK", "10m")]).await;
    let visitor = app.visitor();
    // One allowed attempt, then 20 refusals are tolerated; the 21st blocks.
    for _ in 0..22 {
        failed_sign_in(&visitor).await;
    }
    let blocked = visitor.get("/jwks.json").await;
    assert_eq!(
        blocked.status(),
        429,
        "blocked beyond the limit that was hit"
    );
    assert!(
        (500..=600).contains(&retry_after(&blocked)),
        "the block lasts RATE_LIMIT_BLOCK: {}",
        retry_after(&blocked)
    );
    assert_eq!(visitor.get("/healthz").await.status(), 200);
}

#[actix_web::test]
async fn limits_are_shared_by_instances_through_redis() {
    let Ok(redis_url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("TEST_REDIS_URL is not set: skipping the shared-limit test");
        return;
    };
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let settings = [
        ("RATE_LIMIT_LOGIN", "2/1m"),
        ("REDIS_URL", redis_url.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
    ];
    let first = spawn_app_with(&settings).await;
    let second = first.another_instance(&settings).await;
    let visitor = first.visitor();
    assert_ne!(failed_sign_in(&visitor).await.status(), 429);
    // Each attempt on the second instance comes from a new browser.
    assert_ne!(failed_sign_in(&second.visitor()).await.status(), 429);
    assert_eq!(
        failed_sign_in(&visitor).await.status(),
        429,
        "the second instance's attempt counted on the first"
    );
    assert_eq!(failed_sign_in(&second.visitor()).await.status(), 429);
}

#[actix_web::test]
async fn without_redis_each_instance_still_limits() {
    // Nothing listens on port 1: the limiter falls back to counting in process.
    let app = spawn_app_with(&[
        ("RATE_LIMIT_LOGIN", "2/1m"),
        ("REDIS_URL", "redis://127.0.0.1:1"),
    ])
    .await;
    let visitor = app.visitor();
    for _ in 0..2 {
        assert_ne!(failed_sign_in(&visitor).await.status(), 429);
    }
    assert_eq!(failed_sign_in(&visitor).await.status(), 429);
    assert_eq!(visitor.get("/readyz").await.status(), 200);
}

#[actix_web::test]
async fn limits_can_be_switched_off() {
    let app = spawn_app_with(&[("RATE_LIMITS", "off"), ("RATE_LIMIT_LOGIN", "1/1m")]).await;
    let visitor = app.visitor();
    for _ in 0..3 {
        let response = failed_sign_in(&visitor).await;
        assert_ne!(response.status(), 429);
        assert!(header(&response, "ratelimit-limit").is_none());
    }
}

#[actix_web::test]
async fn redis_keeps_sliding_windows_and_blocks_too() {
    let Ok(redis_url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("TEST_REDIS_URL is not set: skipping the shared-limit test");
        return;
    };
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let app = spawn_app_with(&[
        ("RATE_LIMIT_REGISTER", "1/1h"),
        ("RATE_LIMIT_LOGIN", "1/1m"),
        ("RATE_LIMIT_BLOCK", "10m"),
        ("REDIS_URL", redis_url.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
    ])
    .await;
    let visitor = app.visitor();
    let password = "violet-anchor-tundra-42";
    let first = app
        .visitor()
        .register("first", "first@example.com", password)
        .await;
    assert_eq!(first.status(), 303);
    let second = app
        .visitor()
        .register("second", "second@example.com", password)
        .await;
    assert_eq!(second.status(), 429);
    assert!(retry_after(&second) > 3000, "the window is an hour");

    // That refusal was the first strike: one allowed attempt and 20 refused ones block.
    for _ in 0..21 {
        failed_sign_in(&visitor).await;
    }
    let blocked = visitor.get("/jwks.json").await;
    assert_eq!(blocked.status(), 429);
    assert!((500..=600).contains(&retry_after(&blocked)));

    // Decided in Redis, not by the in-process fallback.
    for kind in ["register", "block", "strikes"] {
        let key = format!("{prefix}{{127.0.0.1}}:{kind}");
        assert!(redis_has_key(&redis_url, &key), "{key} is in Redis");
    }
}

/// Whether Redis at `redis://host:port` holds `key` (an inline `EXISTS`, no client library;
/// the key has no spaces).
fn redis_has_key(redis_url: &str, key: &str) -> bool {
    use std::io::{BufRead as _, BufReader, Write as _};
    let address = redis_url
        .trim_start_matches("redis://")
        .trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(stream, "EXISTS {key}\r\n").unwrap();
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).unwrap();
    reply.trim() == ":1"
}

#[actix_web::test]
async fn an_encoded_path_counts_as_the_page_it_reaches() {
    let app = spawn_app_with(&[("RATE_LIMIT_LOGIN", "2/1m")]).await;
    let visitor = app.visitor();
    for _ in 0..2 {
        assert_ne!(failed_sign_in(&visitor).await.status(), 429);
    }
    let csrf = visitor.csrf_from("/login").await;
    let encoded = visitor
        .post_form(
            "/%6Cogin",
            &[
                ("csrf_token", csrf.as_str()),
                ("username", "nobody"),
                ("password", "wrong-password-123"),
            ],
        )
        .await;
    assert_eq!(encoded.status(), 429, "/%6Cogin is /login");
}

#[actix_web::test]
async fn behind_a_proxy_the_address_it_appended_is_the_one_counted() {
    let app = spawn_app_with(&[
        ("TRUST_PROXY_HEADERS", "true"),
        ("RATE_LIMIT_PER_IP", "2/1m"),
    ])
    .await;
    let from = |forwarded: &'static str| {
        let url = app.url("/jwks.json");
        async move {
            reqwest::Client::new()
                .get(url)
                .header("X-Forwarded-For", forwarded)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // The client wrote the first entry; the proxy appended the last one.
    assert_eq!(from("1.1.1.1, 203.0.113.7").await, 200);
    assert_eq!(from("2.2.2.2, 203.0.113.7").await, 200);
    assert_eq!(
        from("3.3.3.3, 203.0.113.7").await,
        429,
        "a forged first entry buys no fresh budget"
    );
    assert_eq!(from("203.0.113.8").await, 200, "another client has its own");
}

#[actix_web::test]
async fn a_browser_app_can_read_a_refusal_of_the_token_endpoint() {
    let app = spawn_app_with(&[
        ("RATE_LIMIT_TOKEN", "1/1m"),
        ("CORS_ALLOWED_ORIGINS", "https://app.example.com"),
    ])
    .await;
    let post = || {
        reqwest::Client::new()
            .post(app.url("/token"))
            .header("Origin", "https://app.example.com")
            .form(&[("grant_type", "client_credentials"), ("client_id", "x")])
            .send()
    };
    assert_ne!(post().await.unwrap().status(), 429);
    let refused = post().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(
        header(&refused, "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    let exposed = header(&refused, "access-control-expose-headers").unwrap();
    assert!(exposed.contains("retry-after"), "{exposed}");

    let other = reqwest::Client::new()
        .post(app.url("/token"))
        .header("Origin", "https://evil.example.net")
        .form(&[("grant_type", "client_credentials"), ("client_id", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 429);
    assert_eq!(
        header(&other, "access-control-allow-origin"),
        None,
        "another origin's page cannot read it"
    );
}

#[actix_web::test]
async fn a_redis_outage_costs_requests_no_more_than_a_moment() {
    if std::env::var("TEST_REDIS_URL").is_err() {
        eprintln!("TEST_REDIS_URL is not set: skipping the Redis outage test");
        return;
    }
    // A Redis of this test's own, to stop halfway.
    let mut redis = PrivateRedis::start();
    let redis_url = redis.url.clone();
    let app = spawn_app_with(&[("RATE_LIMIT_LOGIN", "3/1m"), ("REDIS_URL", &redis_url)]).await;
    let visitor = app.visitor();
    assert_ne!(failed_sign_in(&visitor).await.status(), 429);
    assert!(
        redis_has_key(&redis_url, "oauth:rl:{127.0.0.1}:login"),
        "counted in Redis"
    );

    redis.stop();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let started = std::time::Instant::now();
        statuses.push(failed_sign_in(&visitor).await.status().as_u16());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "a request waited {:?} for a dead Redis",
            started.elapsed()
        );
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 429],
        "the instance went on counting by itself"
    );
}
