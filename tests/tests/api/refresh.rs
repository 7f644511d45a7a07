//! The refresh-token grant (RFC 6749 §6, RFC 9700 §4.14): rotation, reuse revoking the
//! family, the concurrent race, scope narrowing, client binding, expiry.

use diesel::prelude::*;
use shared::models::now;
use shared::schema::refresh_tokens;

use crate::support::browser::location;
use crate::support::oauth_client::{
    ClientOptions, authorize_path, field, pkce, query_param, resource_server,
};
use crate::support::servers::spawn_app;

#[actix_web::test]
async fn each_refresh_rotates_the_refresh_token() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let first = app.signed_in_user("alice").await.tokens_for(&client).await;

    let response = app
        .refresh(&client, &field(&first, "refresh_token"), None)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let second: serde_json::Value = response.json().await.unwrap();
    assert_ne!(
        field(&second, "refresh_token"),
        field(&first, "refresh_token")
    );
    assert_ne!(
        field(&second, "access_token"),
        field(&first, "access_token")
    );
    assert_eq!(second["scope"], "tasks:read tasks:write");
    let claims = app
        .verify_access_token(&field(&second, "access_token"))
        .await;
    assert_eq!(claims["client_id"], client.client_id.as_str());

    // The new one works in turn.
    let third = app
        .refresh(&client, &field(&second, "refresh_token"), None)
        .await;
    assert_eq!(third.status(), 200);
}

#[actix_web::test]
async fn a_spent_refresh_token_revokes_its_whole_family() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let api = app.register_client(resource_server()).await;
    let first = app.signed_in_user("alice").await.tokens_for(&client).await;
    let second: serde_json::Value = app
        .refresh(&client, &field(&first, "refresh_token"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        app.introspect(&api, &field(&second, "access_token")).await["active"],
        true
    );

    // The first refresh token again: an attacker's copy, or the client's — either way stolen.
    let reuse = app
        .refresh(&client, &field(&first, "refresh_token"), None)
        .await;
    assert_eq!(reuse.status(), 400);
    assert_eq!(
        reuse.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    // The newest tokens of the family stop working.
    assert_eq!(
        app.introspect(&api, &field(&second, "access_token")).await["active"],
        false
    );
    assert_eq!(
        app.introspect(&api, &field(&second, "refresh_token")).await["active"],
        false
    );
    assert_eq!(
        app.introspect(&api, &field(&first, "access_token")).await["active"],
        false
    );
    let newest = app
        .refresh(&client, &field(&second, "refresh_token"), None)
        .await;
    assert_eq!(newest.status(), 400);
}

#[actix_web::test]
async fn twenty_concurrent_refreshes_with_one_token_yield_exactly_one_success() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;
    let refresh_token = field(&tokens, "refresh_token");
    let attempts = (0..20).map(|_| app.refresh(&client, &refresh_token, None));
    let responses = futures_util::future::join_all(attempts).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        19,
        "{statuses:?}"
    );
}

#[actix_web::test]
async fn a_refresh_may_narrow_the_scope_but_never_widen_it() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let api = app.register_client(resource_server()).await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;

    let narrowed: serde_json::Value = app
        .refresh(
            &client,
            &field(&tokens, "refresh_token"),
            Some("tasks:read"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(narrowed["scope"], "tasks:read");
    assert_eq!(
        app.verify_access_token(&field(&narrowed, "access_token"))
            .await["scope"],
        "tasks:read"
    );
    // The family keeps what the person allowed: the next refresh may ask for all of it.
    assert_eq!(
        app.introspect(&api, &field(&narrowed, "refresh_token"))
            .await["scope"],
        "tasks:read tasks:write"
    );
    let full: serde_json::Value = app
        .refresh(&client, &field(&narrowed, "refresh_token"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(full["scope"], "tasks:read tasks:write");

    // Wider than the person granted: refused, and the token is not spent.
    let bob = app.signed_in_user("bob").await;
    let p = pkce();
    let path = authorize_path(&[
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("scope", "tasks:read"),
        ("code_challenge", &p.challenge),
        ("code_challenge_method", "S256"),
    ]);
    let code = query_param(&location(&bob.authorize(&path, "allow").await), "code").unwrap();
    let mut read_tokens: serde_json::Value = app
        .exchange_code(&client, &code, Some(&p.verifier))
        .await
        .json()
        .await
        .unwrap();
    let read_only_client = client.clone();
    let wider = app
        .refresh(
            &read_only_client,
            &field(&read_tokens, "refresh_token"),
            Some("tasks:read tasks:write"),
        )
        .await;
    assert_eq!(wider.status(), 400);
    assert_eq!(
        wider.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_scope"
    );
    let unknown = app
        .refresh(
            &read_only_client,
            &field(&read_tokens, "refresh_token"),
            Some("admin"),
        )
        .await;
    assert_eq!(
        unknown.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_scope"
    );
    read_tokens = app
        .refresh(
            &read_only_client,
            &field(&read_tokens, "refresh_token"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read_tokens["scope"], "tasks:read");
}

#[actix_web::test]
async fn only_the_client_it_was_issued_to_can_refresh() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let other = app
        .register_client(ClientOptions {
            name: "Other".into(),
            ..ClientOptions::default()
        })
        .await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;
    let stolen = app
        .refresh(&other, &field(&tokens, "refresh_token"), None)
        .await;
    assert_eq!(stolen.status(), 400);
    assert_eq!(
        stolen.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    assert_eq!(
        app.refresh(&client, &field(&tokens, "refresh_token"), None)
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn refresh_tokens_expire_when_idle_and_at_the_family_end() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;
    let (issued, idle, absolute): (
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
    ) = app
        .query(|c| {
            refresh_tokens::table
                .select((
                    refresh_tokens::issued_at,
                    refresh_tokens::idle_expires_at,
                    refresh_tokens::expires_at,
                ))
                .first(c)
        })
        .await;
    assert_eq!((idle - issued).num_days(), 30);
    assert_eq!((absolute - issued).num_days(), 90);

    let past = now() - chrono::Duration::seconds(1);
    app.query(move |c| {
        diesel::update(refresh_tokens::table)
            .set(refresh_tokens::idle_expires_at.eq(past))
            .execute(c)
    })
    .await;
    let idle_refresh = app
        .refresh(&client, &field(&tokens, "refresh_token"), None)
        .await;
    assert_eq!(
        idle_refresh.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    let other = app.signed_in_user("bob").await.tokens_for(&client).await;
    app.query(move |c| {
        diesel::update(refresh_tokens::table)
            .set((
                refresh_tokens::expires_at.eq(past),
                refresh_tokens::idle_expires_at.eq(past + chrono::Duration::days(1)),
            ))
            .execute(c)
    })
    .await;
    let expired = app
        .refresh(&client, &field(&other, "refresh_token"), None)
        .await;
    assert_eq!(
        expired.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

#[actix_web::test]
async fn a_public_client_refreshes_with_its_client_id() {
    let app = spawn_app().await;
    let client = app
        .register_client(ClientOptions {
            public: true,
            ..ClientOptions::default()
        })
        .await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;
    assert_eq!(
        app.refresh(&client, &field(&tokens, "refresh_token"), None)
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn malformed_refresh_requests_are_invalid() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let missing = app
        .token_request(&client, &[("grant_type", "refresh_token".to_owned())])
        .await;
    assert_eq!(
        missing.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_request"
    );
    for junk in [
        "rt_",
        "rt_not-a-token",
        "garbage",
        "eyJhbGciOiJub25lIn0.e30.",
    ] {
        let response = app.refresh(&client, junk, None).await;
        assert_eq!(response.status(), 400, "{junk}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap()["error"],
            "invalid_grant"
        );
    }
}
