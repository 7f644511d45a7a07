//! Property: no JSON body and no query string, however odd, makes the task API answer 5xx
//! (SECURITY.md 28). Cases come from proptest strategies; each is sent over HTTP, and a
//! failing case is shrunk the way proptest shrinks (over HTTP too) before it is reported.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::Method;
use serde_json::Value;

use crate::support::servers::spawn_stack;
use crate::support::tokens::user_token;

const CASES: usize = 150;

/// Field names a client might send: the real ones, the forbidden ones, and noise.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("title".to_owned()),
        Just("description".to_owned()),
        Just("status".to_owned()),
        Just("priority".to_owned()),
        Just("id".to_owned()),
        Just("user_id".to_owned()),
        "\\PC{0,12}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-10i64..10).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::String),
        prop_oneof![Just("pending"), Just("in_progress"), Just("completed")].prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("page"),
        Just("limit"),
        Just("status"),
        Just("priority"),
        Just("x")
    ];
    let value = prop_oneof![
        "-?[0-9]{0,20}",
        "\\PC{0,10}",
        Just("%FF".to_owned()),
        Just("1e3".to_owned())
    ];
    prop::collection::vec((name, value), 0..5).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(['&', '#', ' '], "_")))
            .collect::<Vec<_>>()
            .join("&")
    })
}

#[actix_web::test]
async fn random_bodies_and_query_strings_never_cause_a_server_error() {
    let stack = spawn_stack().await;
    let token = user_token(&stack, "tasks:read tasks:write").await;
    let existing: Value = stack
        .api(Method::POST, "/api/tasks", Some(&token))
        .json(&serde_json::json!({ "title": "target" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = format!("/api/tasks/{}", existing["task"]["id"].as_str().unwrap());

    let mut runner = TestRunner::deterministic();
    let bodies = json_value();
    let queries = query();
    for case in 0..CASES {
        let (method, path) = match case % 3 {
            0 => (Method::POST, "/api/tasks".to_owned()),
            1 => (Method::PUT, item.clone()),
            _ => (Method::PATCH, item.clone()),
        };
        let body_status = |body: Value| {
            let request = stack.api(method.clone(), &path, Some(&token)).json(&body);
            async move { no_server_error(request.send().await.unwrap().status().as_u16()) }
        };
        if let Some((body, status)) =
            smallest_failure(bodies.new_tree(&mut runner).unwrap(), body_status).await
        {
            panic!("{method} {path} {body} -> {status}");
        }

        let query_status = |q: String| {
            let request = stack.api(Method::GET, &format!("/api/tasks?{q}"), Some(&token));
            async move { no_server_error(request.send().await.unwrap().status().as_u16()) }
        };
        if let Some((q, status)) =
            smallest_failure(queries.new_tree(&mut runner).unwrap(), query_status).await
        {
            panic!("GET /api/tasks?{q} -> {status}");
        }
    }
}

/// The property of these cases: any status but a 5xx.
fn no_server_error(status: u16) -> Result<(), u16> {
    if status < 500 { Ok(()) } else { Err(status) }
}

/// `None` if the case passes `check`; otherwise the simplest input proptest's shrinking
/// reaches that still fails, with its failure. The same walk as proptest's own runner:
/// simplify while the input keeps failing, step back (`complicate`) when it passes.
pub async fn smallest_failure<T, F, Fut, E>(mut tree: T, check: F) -> Option<(T::Value, E)>
where
    T: ValueTree,
    F: Fn(T::Value) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
{
    let first = check(tree.current()).await.err()?;
    let mut smallest = (tree.current(), first);
    let mut steps = 0;
    while steps < 200 && tree.simplify() {
        steps += 1;
        loop {
            if let Err(failure) = check(tree.current()).await {
                smallest = (tree.current(), failure);
                break;
            }
            if !tree.complicate() {
                return Some(smallest);
            }
        }
    }
    Some(smallest)
}

#[actix_web::test]
async fn a_failing_case_is_reported_shrunk() {
    // A stand-in for the server: "fails" on any query string that sets `limit`.
    let status_of =
        |q: String| async move { no_server_error(if q.contains("limit=") { 500 } else { 200 }) };
    let mut runner = TestRunner::deterministic();
    let queries = query();
    let mut found = None;
    for _ in 0..200 {
        if let Some(failure) =
            smallest_failure(queries.new_tree(&mut runner).unwrap(), status_of).await
        {
            found = Some(failure);
            break;
        }
    }
    let (q, status) = found.expect("some generated query sets limit");
    assert_eq!(status, 500);
    assert_eq!(
        q, "limit=",
        "shrunk to the one parameter that matters, with no value"
    );
}
