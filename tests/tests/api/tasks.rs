//! The task endpoints (DESIGN.md "Contracts: Task API"), with tokens from the real flow.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::servers::{TestStack, spawn_stack};
use crate::support::tokens::user_token;

async fn send(
    stack: &TestStack,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = stack.api(method, path, Some(token));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, value, headers)
}

async fn create(stack: &TestStack, token: &str, body: Value) -> Value {
    let (status, value, _) = send(stack, Method::POST, "/api/tasks", token, Some(body)).await;
    assert_eq!(status, 201, "{value}");
    value["task"].clone()
}

#[actix_web::test]
async fn a_task_is_created_read_replaced_patched_and_deleted() {
    let stack = spawn_stack().await;
    let token = user_token(&stack, "tasks:read tasks:write").await;

    let (status, body, headers) = send(
        &stack,
        Method::POST,
        "/api/tasks",
        &token,
        Some(json!({ "title": "  Buy milk  ", "priority": 2 })),
    )
    .await;
    assert_eq!(status, 201);
    let task = &body["task"];
    let id = task["id"].as_str().unwrap().to_owned();
    assert_eq!(headers["location"], format!("/api/tasks/{id}").as_str());
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["description"], Value::Null);
    assert_eq!(task["status"], "pending");
    assert_eq!(task["priority"], 2);
    assert!(task["created_at"].as_str().unwrap().ends_with('Z'));
    let keys: Vec<&String> = task.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "created_at",
            "description",
            "id",
            "priority",
            "status",
            "title",
            "updated_at"
        ]
    );

    let (status, body, _) = send(
        &stack,
        Method::GET,
        &format!("/api/tasks/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["task"], *task);

    let (status, body, _) = send(&stack, Method::PUT, &format!("/api/tasks/{id}"), &token,
        Some(json!({ "title": "Buy oat milk", "description": "2 litres", "status": "in_progress", "priority": 4 }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["task"]["description"], "2 litres");
    assert_eq!(body["task"]["status"], "in_progress");

    let (status, body, _) = send(
        &stack,
        Method::PATCH,
        &format!("/api/tasks/{id}"),
        &token,
        Some(json!({ "status": "completed" })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["task"]["status"], "completed");
    assert_eq!(
        body["task"]["title"], "Buy oat milk",
        "PATCH changes only what it sends"
    );
    assert_eq!(body["task"]["description"], "2 litres");
    let (_, body, _) = send(
        &stack,
        Method::PATCH,
        &format!("/api/tasks/{id}"),
        &token,
        Some(json!({ "description": null })),
    )
    .await;
    assert_eq!(body["task"]["description"], Value::Null);

    // PUT is a full replacement: the description it leaves out is cleared.
    let (_, body, _) = send(
        &stack,
        Method::PUT,
        &format!("/api/tasks/{id}"),
        &token,
        Some(json!({ "title": "T", "status": "pending", "priority": 1 })),
    )
    .await;
    assert_eq!(body["task"]["description"], Value::Null);
    let (status, body, _) = send(
        &stack,
        Method::PUT,
        &format!("/api/tasks/{id}"),
        &token,
        Some(json!({ "title": "T" })),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"]["status"], "is required");

    let (status, body, _) = send(
        &stack,
        Method::DELETE,
        &format!("/api/tasks/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(body, Value::Null);
    let (status, body, headers) = send(
        &stack,
        Method::GET,
        &format!("/api/tasks/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["status"], 404);
}

#[actix_web::test]
async fn another_users_task_is_not_found() {
    let stack = spawn_stack().await;
    let alice = user_token(&stack, "tasks:read tasks:write").await;
    let bob = user_token(&stack, "tasks:read tasks:write").await;
    let task = create(&stack, &alice, json!({ "title": "Alice's" })).await;
    let path = format!("/api/tasks/{}", task["id"].as_str().unwrap());
    assert_eq!(send(&stack, Method::GET, &path, &bob, None).await.0, 404);
    assert_eq!(
        send(
            &stack,
            Method::PUT,
            &path,
            &bob,
            Some(json!({ "title": "x", "status": "pending", "priority": 1 }))
        )
        .await
        .0,
        404
    );
    assert_eq!(
        send(
            &stack,
            Method::PATCH,
            &path,
            &bob,
            Some(json!({ "title": "x" }))
        )
        .await
        .0,
        404
    );
    assert_eq!(send(&stack, Method::DELETE, &path, &bob, None).await.0, 404);
    let (_, list, _) = send(&stack, Method::GET, "/api/tasks", &bob, None).await;
    assert_eq!(list["pagination"]["total"], 0);
    let (status, body, _) = send(&stack, Method::GET, &path, &alice, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["task"]["title"], "Alice's", "untouched");
}

#[actix_web::test]
async fn lists_are_paginated_newest_first_and_filtered() {
    let stack = spawn_stack().await;
    let token = user_token(&stack, "tasks:read tasks:write").await;
    for i in 1..=25 {
        let status = if i % 5 == 0 { "completed" } else { "pending" };
        create(
            &stack,
            &token,
            json!({ "title": format!("task {i}"), "priority": (i % 5) + 1, "status": status }),
        )
        .await;
    }
    let (status, body, _) = send(&stack, Method::GET, "/api/tasks", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["pagination"],
        json!({ "page": 1, "limit": 10, "total": 25, "pages": 3 })
    );
    assert_eq!(body["tasks"][0]["title"], "task 25", "newest first");
    let (_, body, _) = send(
        &stack,
        Method::GET,
        "/api/tasks?page=3&limit=10",
        &token,
        None,
    )
    .await;
    assert_eq!(body["tasks"].as_array().unwrap().len(), 5);
    assert_eq!(body["tasks"][4]["title"], "task 1");
    let (_, body, _) = send(&stack, Method::GET, "/api/tasks?page=4", &token, None).await;
    assert_eq!(body["tasks"], json!([]));
    assert_eq!(
        body["pagination"],
        json!({ "page": 4, "limit": 10, "total": 25, "pages": 3 }),
        "a page past the end still reports the total"
    );
    let (_, body, _) = send(&stack, Method::GET, "/api/tasks?limit=100", &token, None).await;
    assert_eq!(body["tasks"].as_array().unwrap().len(), 25);
    assert_eq!(body["pagination"]["pages"], 1);

    let (_, body, _) = send(
        &stack,
        Method::GET,
        "/api/tasks?status=completed",
        &token,
        None,
    )
    .await;
    assert_eq!(body["pagination"]["total"], 5);
    let (_, body, _) = send(
        &stack,
        Method::GET,
        "/api/tasks?priority=1&status=completed",
        &token,
        None,
    )
    .await;
    assert_eq!(body["pagination"]["total"], 5);
    let (_, body, _) = send(&stack, Method::GET, "/api/tasks?priority=2", &token, None).await;
    assert_eq!(body["pagination"]["total"], 5);
    // Both filters apply together: no completed task has priority 2.
    let (_, body, _) = send(
        &stack,
        Method::GET,
        "/api/tasks?priority=2&status=completed",
        &token,
        None,
    )
    .await;
    assert_eq!(body["pagination"]["total"], 0);
    assert_eq!(body["tasks"], json!([]));

    for (query, field) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=1.5", "limit"),
        ("status=done", "status"),
        ("priority=6", "priority"),
        ("page=1&page=2", "page"),
    ] {
        let (status, body, headers) = send(
            &stack,
            Method::GET,
            &format!("/api/tasks?{query}"),
            &token,
            None,
        )
        .await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert!(body["errors"][field].is_string(), "{query}: {body}");
    }
}

#[actix_web::test]
async fn invalid_bodies_are_refused_field_by_field_and_nothing_is_written() {
    let stack = spawn_stack().await;
    let token = user_token(&stack, "tasks:read tasks:write").await;
    let cases = [
        (json!({}), "title"),
        (json!({ "title": "" }), "title"),
        (json!({ "title": "   " }), "title"),
        (json!({ "title": "a".repeat(201) }), "title"),
        (json!({ "title": 5 }), "title"),
        (
            json!({ "title": "ok", "description": "d".repeat(1001) }),
            "description",
        ),
        (json!({ "title": "ok", "description": 1 }), "description"),
        (json!({ "title": "ok", "status": "done" }), "status"),
        (json!({ "title": "ok", "priority": 0 }), "priority"),
        (json!({ "title": "ok", "priority": 6 }), "priority"),
        (json!({ "title": "ok", "priority": "3" }), "priority"),
        (json!({ "title": "ok", "priority": 2.5 }), "priority"),
        (json!({ "title": "ok", "id": "mine" }), "id"),
        (
            json!({ "title": "ok", "user_id": "someone-else" }),
            "user_id",
        ),
        (
            json!({ "title": "ok", "created_at": "2020-01-01T00:00:00Z" }),
            "created_at",
        ),
        (json!({ "title": "ok", "admin": true }), "admin"),
    ];
    for (body, field) in cases {
        let (status, answer, headers) = send(
            &stack,
            Method::POST,
            "/api/tasks",
            &token,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert!(answer["errors"][field].is_string(), "{body} -> {answer}");
    }
    assert!(
        send(
            &stack,
            Method::POST,
            "/api/tasks",
            &token,
            Some(json!({ "title": "a".repeat(200) }))
        )
        .await
        .0 == 201
    );

    let raw = |body: Vec<u8>, content_type: &'static str| {
        stack
            .api(Method::POST, "/api/tasks", Some(&token))
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    assert_eq!(
        raw(br#"{"title":"a","title":"b"}"#.to_vec(), "application/json")
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        raw(br#"{"title":"#.to_vec(), "application/json")
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        raw(br#"["title"]"#.to_vec(), "application/json")
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        raw(b"{\"title\":\"\xff\xfe\"}".to_vec(), "application/json")
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        raw(br#"{"title":"a"}"#.to_vec(), "text/plain")
            .await
            .unwrap()
            .status(),
        415
    );
    let huge = format!(r#"{{"title":"a","description":"{}"}}"#, "x".repeat(20_000));
    assert_eq!(
        raw(huge.into_bytes(), "application/json")
            .await
            .unwrap()
            .status(),
        413
    );

    let (_, list, _) = send(&stack, Method::GET, "/api/tasks", &token, None).await;
    assert_eq!(
        list["pagination"]["total"], 1,
        "only the valid task was written"
    );
}

#[actix_web::test]
async fn the_openapi_document_describes_every_endpoint_and_both_credentials() {
    let stack = spawn_stack().await;
    let response = reqwest::get(stack.api_url("/api/openapi.json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/tasks", vec!["get", "post"]),
        ("/api/tasks/{id}", vec!["get", "put", "patch", "delete"]),
        ("/api/health", vec!["get"]),
    ] {
        for method in methods {
            assert!(
                paths[path][method]["responses"].is_object(),
                "{method} {path}"
            );
        }
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["access_token"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["scheme"], "bearer");
    assert_eq!(
        doc["components"]["schemas"]["NewTask"]["additionalProperties"],
        false
    );
    assert!(doc["paths"]["/api/tasks"]["post"]["responses"]["400"]["content"]["application/problem+json"].is_object());
    // Each operation names the scope it needs (what the handlers require), for both
    // credentials; the health probe needs none.
    for (path, method, scope) in [
        ("/api/tasks", "get", "tasks:read"),
        ("/api/tasks", "post", "tasks:write"),
        ("/api/tasks/{id}", "get", "tasks:read"),
        ("/api/tasks/{id}", "put", "tasks:write"),
        ("/api/tasks/{id}", "patch", "tasks:write"),
        ("/api/tasks/{id}", "delete", "tasks:write"),
    ] {
        assert_eq!(
            paths[path][method]["security"],
            json!([{ "access_token": [scope] }, { "api_key": [scope] }]),
            "{method} {path}"
        );
    }
    assert_eq!(paths["/api/health"]["get"]["security"], json!([{}]));
    // What only the server sets is readOnly in the task it answers.
    let task = &doc["components"]["schemas"]["Task"]["properties"];
    for field in ["id", "created_at", "updated_at"] {
        assert_eq!(task[field]["readOnly"], true, "{field}");
    }
    assert!(task["title"].get("readOnly").is_none());

    // Methods the document does not list get 405 with the allowed ones.
    let response = stack
        .api(Method::from_bytes(b"TRACE").unwrap(), "/api/tasks", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, POST");
}
