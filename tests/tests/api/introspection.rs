//! `POST /introspect` (RFC 7662): who may see what, and what an active token carries.

use std::time::Duration;

use crate::support::oauth_client::{ClientOptions, field, resource_server};
use crate::support::servers::spawn_app_with;

#[actix_web::test]
async fn an_active_access_token_shows_its_claims() {
    let app = spawn_app_with(&[]).await;
    let client = app.register_client(ClientOptions::default()).await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;
    let claims = app
        .verify_access_token(&field(&tokens, "access_token"))
        .await;

    let seen = app
        .introspect(&client, &field(&tokens, "access_token"))
        .await;
    assert_eq!(seen["active"], true);
    for name in [
        "scope",
        "client_id",
        "sub",
        "exp",
        "iat",
        "jti",
        "aud",
        "iss",
    ] {
        assert_eq!(seen[name], claims[name], "{name}");
    }
    assert_eq!(seen["token_type"], "Bearer");

    let refresh = app
        .introspect(&client, &field(&tokens, "refresh_token"))
        .await;
    assert_eq!(refresh["active"], true);
    assert_eq!(refresh["token_type"], "refresh_token");
    assert_eq!(refresh["sub"], claims["sub"]);
}

#[actix_web::test]
async fn other_clients_see_inactive_and_resource_servers_see_all() {
    let app = spawn_app_with(&[]).await;
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
        assert_eq!(
            app.introspect(&other, &field(&tokens, kind)).await,
            serde_json::json!({ "active": false }),
            "{kind}"
        );
        assert_eq!(
            app.introspect(&api, &field(&tokens, kind)).await["active"],
            true,
            "{kind}"
        );
    }
}

#[actix_web::test]
async fn expired_spent_revoked_and_malformed_tokens_are_inactive() {
    let app = spawn_app_with(&[("ACCESS_TOKEN_TTL", "1s")]).await;
    let client = app.register_client(ClientOptions::default()).await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;
    let inactive = serde_json::json!({ "active": false });

    let tampered = {
        let token = field(&tokens, "access_token");
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].chars().rev().collect();
        parts.join(".")
    };
    for junk in ["garbage", "rt_unknown", "a.b.c", tampered.as_str()] {
        assert_eq!(app.introspect(&client, junk).await, inactive, "{junk}");
    }

    // Spent: the refresh token used once.
    let next: serde_json::Value = app
        .refresh(&client, &field(&tokens, "refresh_token"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        app.introspect(&client, &field(&tokens, "refresh_token"))
            .await,
        inactive
    );

    // Expired: the access token's 1 s is over.
    actix_web::rt::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        app.introspect(&client, &field(&next, "access_token")).await,
        inactive
    );

    // Revoked.
    assert_eq!(
        app.revoke(&client, &field(&next, "refresh_token"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.introspect(&client, &field(&next, "refresh_token"))
            .await,
        inactive
    );

    let missing = app.client_post(&client, "/introspect", &[]).await;
    assert_eq!(
        missing.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let unauthenticated = reqwest::Client::new()
        .post(app.url("/introspect"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

#[actix_web::test]
async fn a_public_client_may_not_introspect_even_its_own_tokens() {
    let app = spawn_app_with(&[]).await;
    let public = app
        .register_client(ClientOptions {
            public: true,
            ..ClientOptions::default()
        })
        .await;
    let alice = app.signed_in_user("alice").await;
    let tokens = alice.tokens_for(&public).await;
    for kind in ["access_token", "refresh_token"] {
        let response = app
            .client_post(&public, "/introspect", &[("token", field(&tokens, kind))])
            .await;
        assert_eq!(response.status(), 401, "{kind}");
        assert!(response.headers().contains_key("www-authenticate"));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client", "{kind}");
        assert!(body.get("active").is_none(), "{body}");
    }
    // The metadata no longer offers `none` for this endpoint.
    let metadata: serde_json::Value = alice
        .get("/.well-known/oauth-authorization-server")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        metadata["introspection_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post"])
    );
}
