//! One code or one refresh token used by several requests at once (SECURITY.md 10, 12):
//! the same rule on SQLite and PostgreSQL. Requests that arrive before the first one has
//! spent it are racing: exactly one wins, the others get `invalid_grant`, and nothing is
//! revoked, so the winner's tokens work. A request that arrives after it was spent is a
//! replay and revokes the family, the winner's tokens included.
//!
//! The race is made certain, not hoped for: the test holds the write lock on the table
//! while every request arrives, then lets them through together.

use std::time::Duration;

use diesel::prelude::*;
use shared::schema::grants;

use crate::support::oauth_client::{ClientOptions, TestClient, field, pkce, resource_server};
use crate::support::servers::{TestApp, spawn_app};

const RACERS: usize = 8;

/// Sends `requests` while the test holds writes to `table`, and releases them together.
async fn race<F>(app: &TestApp, table: &'static str, requests: Vec<F>) -> Vec<reqwest::Response>
where
    F: std::future::Future<Output = reqwest::Response>,
{
    let mut lock = app.hold_write_lock(table);
    (&mut lock.held).await.expect("lock held");
    let release = async {
        // Every request reaches the server and waits on the lock.
        actix_web::rt::time::sleep(Duration::from_millis(600)).await;
        lock.release().await;
    };
    let (responses, ()) =
        futures_util::future::join(futures_util::future::join_all(requests), release).await;
    responses
}

/// Exactly one 200; every other answer is `invalid_grant` naming the concurrent request.
async fn the_winner(responses: Vec<reqwest::Response>) -> serde_json::Value {
    let mut winners = Vec::new();
    let mut refusals = Vec::new();
    for response in responses {
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        if status == 200 {
            winners.push(body);
        } else {
            refusals.push((status, body));
        }
    }
    assert_eq!(winners.len(), 1, "refusals: {refusals:?}");
    assert_eq!(refusals.len(), RACERS - 1);
    for (status, body) in &refusals {
        assert_eq!(*status, 400, "{body}");
        assert_eq!(body["error"], "invalid_grant", "{body}");
        assert!(
            field(body, "error_description").contains("concurrent"),
            "{body}"
        );
    }
    winners.remove(0)
}

/// The winner's access token is active and its refresh token refreshes: nothing of its
/// family was revoked by the racers.
async fn assert_tokens_work(
    app: &TestApp,
    client: &TestClient,
    api: &TestClient,
    tokens: &serde_json::Value,
) -> serde_json::Value {
    let introspection = app.introspect(api, &field(tokens, "access_token")).await;
    assert_eq!(introspection["active"], true, "{introspection}");
    let revoked: i64 = app
        .query(|c| {
            grants::table
                .filter(grants::revoked_at.is_not_null())
                .count()
                .get_result(c)
        })
        .await;
    assert_eq!(revoked, 0, "no grant was revoked");
    let next = app
        .refresh(client, &field(tokens, "refresh_token"), None)
        .await;
    assert_eq!(next.status(), 200);
    next.json().await.unwrap()
}

/// A replay after the race, then: refused, and the family revoked.
async fn assert_replay_revokes(
    app: &TestApp,
    api: &TestClient,
    latest: &serde_json::Value,
    replay: reqwest::Response,
) {
    assert_eq!(replay.status(), 400);
    let introspection = app.introspect(api, &field(latest, "access_token")).await;
    assert_eq!(
        introspection["active"], false,
        "the replay revoked the family"
    );
    let revoked: i64 = app
        .query(|c| {
            grants::table
                .filter(grants::revoked_at.is_not_null())
                .count()
                .get_result(c)
        })
        .await;
    assert_eq!(revoked, 1);
}

#[actix_web::test]
async fn racing_refreshes_leave_the_winner_with_working_tokens() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let api = app.register_client(resource_server()).await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;
    let refresh_token = field(&tokens, "refresh_token");

    let attempts = (0..RACERS)
        .map(|_| app.refresh(&client, &refresh_token, None))
        .collect();
    let winner = the_winner(race(&app, "refresh_tokens", attempts).await).await;
    let latest = assert_tokens_work(&app, &client, &api, &winner).await;

    // Sent after the race was over: reuse, whoever sends it.
    let replay = app.refresh(&client, &refresh_token, None).await;
    assert_replay_revokes(&app, &api, &latest, replay).await;
}

#[actix_web::test]
async fn racing_code_exchanges_leave_the_winner_with_working_tokens() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let api = app.register_client(resource_server()).await;
    let alice = app.signed_in_user("alice").await;
    let p = pkce();
    let code = alice.obtain_code(&client, &p).await;

    let attempts = (0..RACERS)
        .map(|_| app.exchange_code(&client, &code, Some(&p.verifier)))
        .collect();
    let winner = the_winner(race(&app, "authorization_codes", attempts).await).await;
    let latest = assert_tokens_work(&app, &client, &api, &winner).await;

    let replay = app.exchange_code(&client, &code, Some(&p.verifier)).await;
    assert_replay_revokes(&app, &api, &latest, replay).await;
}
