//! CORS (SECURITY.md 27): an allowlist of exact origins; preflights answered only for an
//! allowed origin, method and headers; no credentials mode; nothing on `/authorize` and
//! the pages; nothing at all when no origin is configured.

use reqwest::Method;

use crate::support::servers::{TestStack, spawn_stack, spawn_stack_with};
use crate::support::tokens::user_token;

const APP: &str = "https://app.example.com";
const OTHER: &str = "https://evil.example.net";

async fn stack_allowing_app() -> TestStack {
    spawn_stack_with(&[(
        "CORS_ALLOWED_ORIGINS",
        "https://app.example.com, http://127.0.0.1:5173",
    )])
    .await
}

/// A browser's preflight for a request from `origin`.
async fn preflight(url: &str, origin: &str, method: &str, headers: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(Method::OPTIONS, url)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers)
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

#[actix_web::test]
async fn the_task_api_answers_preflights_for_allowed_origins_only() {
    let stack = stack_allowing_app().await;
    let url = stack.api_url("/api/tasks");
    let allowed = preflight(&url, APP, "POST", "authorization,content-type").await;
    assert_eq!(allowed.status(), 200);
    assert_eq!(header(&allowed, "access-control-allow-origin"), Some(APP));
    let methods = header(&allowed, "access-control-allow-methods").unwrap();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    let headers = header(&allowed, "access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert_eq!(header(&allowed, "access-control-max-age"), Some("600"));
    assert!(header(&allowed, "vary").unwrap().contains("Origin"));
    assert_eq!(
        header(&allowed, "access-control-allow-credentials"),
        None,
        "tokens travel in headers, never cookies: no credentials mode"
    );

    let refused = preflight(&url, OTHER, "POST", "authorization").await;
    assert_eq!(refused.status(), 400);
    assert_eq!(header(&refused, "access-control-allow-origin"), None);
    // An origin differing only in scheme or port is another origin.
    for near_miss in ["http://app.example.com", "https://app.example.com:8443"] {
        let refused = preflight(&url, near_miss, "GET", "authorization").await;
        assert_eq!(
            header(&refused, "access-control-allow-origin"),
            None,
            "{near_miss}"
        );
    }
    let odd_method = preflight(&url, APP, "CONNECT", "authorization").await;
    assert_eq!(odd_method.status(), 400);
    let odd_header = preflight(&url, APP, "GET", "x-forwarded-host").await;
    assert_eq!(odd_header.status(), 400);
    assert_eq!(header(&odd_header, "access-control-allow-origin"), None);
}

#[actix_web::test]
async fn task_api_answers_name_the_allowed_origin_and_expose_location() {
    let stack = stack_allowing_app().await;
    let token = user_token(&stack, "tasks:read tasks:write").await;
    let created = stack
        .api(Method::POST, "/api/tasks", Some(&token))
        .header("Origin", "http://127.0.0.1:5173")
        .json(&serde_json::json!({ "title": "from the browser" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(
        header(&created, "access-control-allow-origin"),
        Some("http://127.0.0.1:5173")
    );
    let exposed = header(&created, "access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("location"), "{exposed}");

    // Another origin's request is served (the browser withholds the answer) but not
    // granted; an error answer carries the grant too, so the app can read a 401.
    let other = stack
        .api(Method::GET, "/api/tasks", Some(&token))
        .header("Origin", OTHER)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    assert_eq!(header(&other, "access-control-allow-origin"), None);
    let unauthorized = stack
        .api(Method::GET, "/api/tasks", None)
        .header("Origin", APP)
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    assert_eq!(
        header(&unauthorized, "access-control-allow-origin"),
        Some(APP)
    );
}

#[actix_web::test]
async fn browser_apps_may_call_the_token_endpoint_but_never_the_pages() {
    let stack = stack_allowing_app().await;
    let app = &stack.auth;
    for (path, method) in [
        ("/token", "POST"),
        ("/revoke", "POST"),
        ("/jwks.json", "GET"),
        ("/.well-known/oauth-authorization-server", "GET"),
    ] {
        let response = preflight(&app.url(path), APP, method, "content-type").await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            Some(APP),
            "{path}"
        );
    }
    let token = reqwest::Client::new()
        .post(app.url("/token"))
        .header("Origin", APP)
        .form(&[("grant_type", "authorization_code"), ("code", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 401, "no client: invalid_client");
    assert_eq!(
        header(&token, "access-control-allow-origin"),
        Some(APP),
        "the app can read the error"
    );

    for path in [
        "/authorize",
        "/login",
        "/register",
        "/account",
        "/introspect",
    ] {
        let response = preflight(&app.url(path), APP, "POST", "content-type").await;
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            None,
            "{path}"
        );
        let page = reqwest::Client::new()
            .get(app.url(path))
            .header("Origin", APP)
            .send()
            .await
            .unwrap();
        for name in [
            "access-control-allow-origin",
            "access-control-expose-headers",
            "access-control-allow-credentials",
        ] {
            assert_eq!(header(&page, name), None, "{path} {name}");
        }
    }
}

#[actix_web::test]
async fn without_allowed_origins_there_is_no_cors_at_all() {
    let stack = spawn_stack().await;
    let preflighted = preflight(&stack.api_url("/api/tasks"), APP, "GET", "authorization").await;
    assert_eq!(header(&preflighted, "access-control-allow-origin"), None);
    assert_eq!(
        preflighted.status(),
        405,
        "an OPTIONS request is just a method the API does not serve"
    );
    let token = preflight(&stack.auth.url("/token"), APP, "POST", "content-type").await;
    assert_eq!(header(&token, "access-control-allow-origin"), None);
}
