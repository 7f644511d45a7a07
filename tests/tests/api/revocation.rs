//! `POST /revoke` (RFC 7009) and the revocation list the task API mirrors.

use crate::support::oauth_client::{ClientOptions, field, resource_server};
use crate::support::servers::spawn_app;

#[actix_web::test]
async fn revoking_a_refresh_token_revokes_its_family() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let api = app.register_client(resource_server()).await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;

    let response = app.revoke(&client, &field(&tokens, "refresh_token")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.introspect(&api, &field(&tokens, "refresh_token")).await["active"],
        false
    );
    assert_eq!(
        app.introspect(&api, &field(&tokens, "access_token")).await["active"],
        false
    );
    let refresh = app
        .refresh(&client, &field(&tokens, "refresh_token"), None)
        .await;
    assert_eq!(refresh.status(), 400);
    // Again: still 200.
    assert_eq!(
        app.revoke(&client, &field(&tokens, "refresh_token"))
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn revoking_an_access_token_revokes_it_alone_and_lists_it() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let api = app.register_client(resource_server()).await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;

    assert_eq!(
        app.revoke(&client, &field(&tokens, "access_token"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.introspect(&api, &field(&tokens, "access_token")).await["active"],
        false
    );
    assert_eq!(
        app.introspect(&api, &field(&tokens, "refresh_token")).await["active"],
        true
    );

    // The revocation feed the task API follows lists its jti.
    let jti = app
        .verify_access_token(&field(&tokens, "access_token"))
        .await["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = app
        .db
        .run(move |conn| shared::models::token_revocation::TokenRevocation::after(conn, 0))
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|r| r.jti.as_str()).collect::<Vec<_>>(),
        [jti.as_str()]
    );
}

#[actix_web::test]
async fn a_client_cannot_revoke_another_clients_tokens() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let other = app
        .register_client(ClientOptions {
            name: "Other".into(),
            ..ClientOptions::default()
        })
        .await;
    let api = app.register_client(resource_server()).await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;
    for kind in ["access_token", "refresh_token"] {
        let response = app.revoke(&other, &field(&tokens, kind)).await;
        assert_eq!(response.status(), 400, "{kind}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap()["error"],
            "invalid_request"
        );
        assert_eq!(
            app.introspect(&api, &field(&tokens, kind)).await["active"],
            true,
            "{kind} untouched"
        );
    }
}

#[actix_web::test]
async fn unknown_and_malformed_tokens_are_answered_200_and_nothing_else_is_revoked() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let api = app.register_client(resource_server()).await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;
    let truncated = field(&tokens, "access_token")[..40].to_owned();
    for junk in [
        "rt_unknown",
        "garbage",
        "a.b.c",
        truncated.as_str(),
        &"x".repeat(2000),
    ] {
        assert_eq!(app.revoke(&client, junk).await.status(), 200, "{junk}");
    }
    assert_eq!(
        app.introspect(&api, &field(&tokens, "access_token")).await["active"],
        true
    );
    assert_eq!(
        app.introspect(&api, &field(&tokens, "refresh_token")).await["active"],
        true
    );

    let missing = app.client_post(&client, "/revoke", &[]).await;
    assert_eq!(missing.status(), 400);
    assert_eq!(
        missing.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let unauthenticated = reqwest::Client::new()
        .post(app.url("/revoke"))
        .form(&[("token", field(&tokens, "access_token"))])
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    assert!(unauthenticated.headers().contains_key("www-authenticate"));
}
