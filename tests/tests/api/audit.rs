//! The audit table (SECURITY.md 30): security events are kept as rows with who, which app
//! and from where — sign-in failures and lockouts, code replays, refresh-token reuse,
//! revocations, client authentication failures, rate-limit blocks — and pruned after
//! `AUDIT_RETENTION`.

use std::time::Duration;

use diesel::prelude::*;
use shared::models::audit_event::AuditEventRow;
use shared::schema::{audit_events, users};

use crate::support::oauth_client::{ClientOptions, field, pkce};
use crate::support::servers::{TestApp, spawn_app, spawn_app_with};

/// The events of `kind` once there are at least `count` (the background writer may take a
/// moment), oldest first.
pub(crate) async fn events(app: &TestApp, kind: &'static str, count: usize) -> Vec<AuditEventRow> {
    let mut rows = Vec::new();
    for _ in 0..50 {
        rows = app
            .query(move |c| {
                audit_events::table
                    .filter(audit_events::kind.eq(kind))
                    .order(audit_events::id)
                    .select(AuditEventRow::as_select())
                    .load(c)
            })
            .await;
        if rows.len() >= count {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    rows
}

pub(crate) fn detail(row: &AuditEventRow) -> serde_json::Value {
    serde_json::from_str(&row.detail).unwrap()
}

async fn user_id(app: &TestApp, username: &'static str) -> String {
    app.query(move |c| {
        users::table
            .filter(users::username.eq(username))
            .select(users::id)
            .first(c)
    })
    .await
}

#[actix_web::test]
async fn sign_in_failures_and_lockouts_are_kept_with_the_account_and_address() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "2")]).await;
    app.create_user("alice").await;
    let visitor = app.visitor();
    for _ in 0..2 {
        visitor.login("alice", "not-the-password-1").await;
    }
    let alice = user_id(&app, "alice").await;
    let failures = events(&app, "login_failure", 2).await;
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].user_id.as_deref(), Some(alice.as_str()));
    assert_eq!(failures[0].ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(detail(&failures[0])["known_user"], true);
    let lockouts = events(&app, "lockout", 1).await;
    assert_eq!(lockouts.len(), 1);
    assert_eq!(lockouts[0].user_id.as_deref(), Some(alice.as_str()));

    visitor.login("nobody", "whatever-password-1").await;
    let failures = events(&app, "login_failure", 3).await;
    let unknown = failures.iter().find(|row| row.user_id.is_none()).unwrap();
    assert_eq!(detail(unknown)["known_user"], false);
    // Every column of every row, not just the detail.
    let stored = format!("{failures:?}");
    for typed in ["nobody", "not-the-password-1", "whatever-password-1"] {
        assert!(!stored.contains(typed), "{typed} is not kept");
    }
}

#[actix_web::test]
async fn code_replay_and_refresh_reuse_are_kept_with_the_client_and_user() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let bob_browser = app.signed_in_user("bob").await;
    let bob = user_id(&app, "bob").await;
    let p = pkce();
    let code = bob_browser.obtain_code(&client, &p).await;
    assert_eq!(
        app.exchange_code(&client, &code, Some(&p.verifier))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.exchange_code(&client, &code, Some(&p.verifier))
            .await
            .status(),
        400
    );
    let replays = events(&app, "code_replay", 1).await;
    assert_eq!(replays.len(), 1);
    assert_eq!(
        replays[0].client_id.as_deref(),
        Some(client.client_id.as_str())
    );
    assert_eq!(replays[0].user_id.as_deref(), Some(bob.as_str()));
    assert_eq!(detail(&replays[0])["revoked_access_tokens"], 1);

    let other = app.signed_in_user("carol").await.tokens_for(&client).await;
    let spent = field(&other, "refresh_token");
    assert_eq!(app.refresh(&client, &spent, None).await.status(), 200);
    assert_eq!(app.refresh(&client, &spent, None).await.status(), 400);
    let reuses = events(&app, "refresh_reuse", 1).await;
    assert_eq!(reuses.len(), 1);
    assert_eq!(
        reuses[0].client_id.as_deref(),
        Some(client.client_id.as_str())
    );
}

#[actix_web::test]
async fn client_authentication_failures_and_revocations_are_kept() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let mut wrong = client.clone();
    wrong.secret = Some("cs_wrong".into());
    let tokens = app.signed_in_user("dave").await.tokens_for(&client).await;
    assert_eq!(
        app.refresh(&wrong, &field(&tokens, "refresh_token"), None)
            .await
            .status(),
        401
    );
    let failures = events(&app, "client_auth_failure", 1).await;
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].client_id.as_deref(),
        Some(client.client_id.as_str())
    );
    assert_eq!(failures[0].ip.as_deref(), Some("127.0.0.1"));
    assert!(!failures[0].detail.contains("cs_wrong"), "never the secret");

    assert_eq!(
        app.revoke(&client, &field(&tokens, "refresh_token"))
            .await
            .status(),
        200
    );
    let revoked = events(&app, "token_revoked", 1).await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(detail(&revoked[0])["kind"], "refresh_token");
    assert!(
        !revoked[0].detail.contains(&field(&tokens, "refresh_token")),
        "never the token"
    );
}

#[actix_web::test]
async fn a_rate_limit_block_is_kept_with_the_address() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_IP", "1/1m"), ("RATE_LIMIT_BLOCK", "10m")]).await;
    let visitor = app.visitor();
    for _ in 0..22 {
        visitor.get("/jwks.json").await;
    }
    let blocks = events(&app, "rate_limit_block", 1).await;
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(detail(&blocks[0])["seconds"], 600);
}

#[actix_web::test]
async fn old_events_are_pruned_after_the_retention() {
    let app = spawn_app().await;
    let row = |id: &str, days_ago: i64| AuditEventRow {
        id: id.to_owned(),
        at: shared::models::now() - chrono::Duration::days(days_ago),
        kind: "login_failure".to_owned(),
        user_id: None,
        client_id: None,
        ip: None,
        detail: "{}".to_owned(),
    };
    let rows = vec![row("old", 91), row("recent", 89)];
    app.db
        .run(move |conn| AuditEventRow::insert_all(conn, &rows))
        .await
        .unwrap();
    // The server's own pruner may get there first (so the count this call returns is 0 or
    // 1); either way the same code ran, and what is left is what matters.
    auth_server::oauth::housekeeping::prune(&app.db, Duration::from_secs(90 * 86_400))
        .await
        .unwrap();
    let left: Vec<String> = app
        .query(|c| audit_events::table.select(audit_events::id).load(c))
        .await;
    assert_eq!(left, ["recent"]);
}
