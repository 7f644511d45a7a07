//! The task API's response headers (SECURITY.md 29): `X-Content-Type-Options: nosniff` on
//! every answer, `Cache-Control: no-store` on every answer (each is one caller's data, and a
//! shared cache must not hand it to another), and HSTS when the issuer is https.

use reqwest::Method;
use serde_json::json;

use crate::support::oauth_client::service_client;
use crate::support::servers::{TestStack, spawn_stack, spawn_stack_with};
use crate::support::tokens::user_token;

const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Sends `request` and checks the headers every answer carries; returns its status.
async fn headers_of(what: &str, request: reqwest::RequestBuilder, https: bool) -> u16 {
    let response = request.send().await.unwrap();
    let headers = response.headers();
    let header = |name: &str| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    assert_eq!(
        header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        header("cache-control").as_deref(),
        Some("no-store"),
        "{what}"
    );
    assert_eq!(
        header("strict-transport-security").as_deref(),
        https.then_some(HSTS),
        "{what}"
    );
    response.status().as_u16()
}

#[actix_web::test]
async fn every_answer_is_nosniff_and_never_stored() {
    let stack = spawn_stack().await;
    let token = user_token(&stack, "tasks:read tasks:write").await;
    let created: serde_json::Value = stack
        .api(Method::POST, "/api/tasks", Some(&token))
        .json(&json!({ "title": "Buy milk" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task = format!("/api/tasks/{}", created["task"]["id"].as_str().unwrap());
    let missing = "/api/tasks/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "a created task",
            stack
                .api(Method::POST, "/api/tasks", Some(&token))
                .json(&json!({ "title": "Call mum" })),
            201,
        ),
        (
            "the task list",
            stack.api(Method::GET, "/api/tasks", Some(&token)),
            200,
        ),
        ("a task", stack.api(Method::GET, &task, Some(&token)), 200),
        (
            "a patched task",
            stack
                .api(Method::PATCH, &task, Some(&token))
                .json(&json!({ "status": "completed" })),
            200,
        ),
        (
            "another user's or no task",
            stack.api(Method::GET, missing, Some(&token)),
            404,
        ),
        (
            "a validation error",
            stack
                .api(Method::POST, "/api/tasks", Some(&token))
                .json(&json!({ "title": "" })),
            400,
        ),
        ("no token", stack.api(Method::GET, "/api/tasks", None), 401),
        (
            "a bad token",
            stack.api(Method::GET, "/api/tasks", Some("x.y.z")),
            401,
        ),
        (
            "a wrong method",
            stack.api(Method::PUT, "/api/tasks", Some(&token)),
            405,
        ),
        (
            "an unknown path",
            stack.api(Method::GET, "/api/nothing", None),
            404,
        ),
        (
            "the health check",
            stack.api(Method::GET, "/api/health", None),
            200,
        ),
        (
            "a deleted task",
            stack.api(Method::DELETE, &task, Some(&token)),
            204,
        ),
    ];
    for (what, request, status) in cases {
        assert_eq!(headers_of(what, request, false).await, status, "{what}");
    }
}

/// Behind an https issuer: a token verified (then refused: it acts for no user), none, and
/// the health check all carry HSTS.
async fn https_cases(stack: &TestStack) -> Vec<(&'static str, reqwest::RequestBuilder, u16)> {
    let service = stack.auth.register_client(service_client()).await;
    let body: serde_json::Value = stack
        .auth
        .token_request(&service, &[("grant_type", "client_credentials".to_owned())])
        .await
        .json()
        .await
        .unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    vec![
        (
            "a verified client token",
            stack.api(Method::GET, "/api/tasks", Some(&token)),
            403,
        ),
        ("no token", stack.api(Method::GET, "/api/tasks", None), 401),
        (
            "the health check",
            stack.api(Method::GET, "/api/health", None),
            200,
        ),
    ]
}

#[actix_web::test]
async fn with_an_https_issuer_every_answer_carries_hsts() {
    let stack = spawn_stack_with(&[("ISSUER", "https://auth.example.com")]).await;
    for (what, request, status) in https_cases(&stack).await {
        assert_eq!(headers_of(what, request, true).await, status, "{what}");
    }
}
