//! Clients authenticated from the server's in-memory cache: a change to a client made
//! anywhere else — another instance, the operator CLI, straight in the database — takes
//! effect on the very next request, and a request refused for it writes nothing.

use diesel::prelude::*;
use shared::schema::{access_tokens, refresh_tokens};

use crate::support::oauth_client::{
    ClientOptions, TestClient, field, resource_server, service_client,
};
use crate::support::servers::{TestApp, spawn_app};

async fn stored_access_tokens(app: &TestApp) -> i64 {
    app.query(|c| access_tokens::table.count().get_result(c))
        .await
}

async fn client_credentials(app: &TestApp, client: &TestClient) -> reqwest::Response {
    app.token_request(client, &[("grant_type", "client_credentials".to_owned())])
        .await
}

/// Disables or re-enables `client` as the CLI's `clients disable|enable` does: through the
/// database, behind the server's back.
async fn set_enabled(app: &TestApp, client: &TestClient, enabled: bool) {
    let changed =
        auth_server::oauth::clients::set_enabled(&app.db, client.client_id.clone(), enabled)
            .await
            .unwrap();
    assert!(changed);
}

#[actix_web::test]
async fn a_disabled_client_is_refused_at_once_and_gets_nothing_stored() {
    let app = spawn_app().await;
    let service = app.register_client(service_client()).await;
    assert_eq!(client_credentials(&app, &service).await.status(), 200);
    assert_eq!(stored_access_tokens(&app).await, 1);

    set_enabled(&app, &service, false).await;
    let refused = client_credentials(&app, &service).await;
    assert_eq!(refused.status(), 401);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(stored_access_tokens(&app).await, 1, "nothing was recorded");

    set_enabled(&app, &service, true).await;
    assert_eq!(client_credentials(&app, &service).await.status(), 200);
    assert_eq!(stored_access_tokens(&app).await, 2);
}

#[actix_web::test]
async fn a_rotated_secret_ends_the_old_one_on_every_instance() {
    let app = spawn_app().await;
    let other = app.another_instance(&[]).await;
    let service = app.register_client(service_client()).await;
    // Both instances have the client cached.
    assert_eq!(client_credentials(&app, &service).await.status(), 200);
    assert_eq!(client_credentials(&other, &service).await.status(), 200);

    let rotated = auth_server::oauth::clients::rotate_secret(&app.db, service.client_id.clone())
        .await
        .unwrap()
        .unwrap();
    for instance in [&app, &other] {
        assert_eq!(client_credentials(instance, &service).await.status(), 401);
    }
    let renewed = TestClient {
        secret: Some(rotated.expose().to_owned()),
        ..service.clone()
    };
    for instance in [&app, &other] {
        assert_eq!(client_credentials(instance, &renewed).await.status(), 200);
    }
}

#[actix_web::test]
async fn a_refresh_for_a_disabled_client_spends_nothing() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let tokens = app.signed_in_user("alice").await.tokens_for(&client).await;
    let refresh_token = field(&tokens, "refresh_token");
    // A first refresh caches the client.
    let next: serde_json::Value = app
        .refresh(&client, &refresh_token, None)
        .await
        .json()
        .await
        .unwrap();
    let refresh_token = field(&next, "refresh_token");

    set_enabled(&app, &client, false).await;
    let refused = app.refresh(&client, &refresh_token, None).await;
    assert_eq!(refused.status(), 401);
    let unspent: i64 = app
        .query(|c| {
            refresh_tokens::table
                .filter(refresh_tokens::used_at.is_null())
                .count()
                .get_result(c)
        })
        .await;
    assert_eq!(unspent, 1, "the refresh token was not spent");

    set_enabled(&app, &client, true).await;
    assert_eq!(
        app.refresh(&client, &refresh_token, None).await.status(),
        200
    );
}

#[actix_web::test]
async fn a_disabled_resource_server_may_no_longer_introspect() {
    let app = spawn_app().await;
    let service = app.register_client(service_client()).await;
    let api = app.register_client(resource_server()).await;
    let token: serde_json::Value = client_credentials(&app, &service)
        .await
        .json()
        .await
        .unwrap();
    let access_token = field(&token, "access_token");
    assert_eq!(app.introspect(&api, &access_token).await["active"], true);

    set_enabled(&app, &api, false).await;
    let refused = app
        .client_post(&api, "/introspect", &[("token", access_token.clone())])
        .await;
    assert_eq!(refused.status(), 401);
    // Garbage is refused the same way: the caller is checked whatever the token.
    let refused = app
        .client_post(&api, "/introspect", &[("token", "not-a-token".to_owned())])
        .await;
    assert_eq!(refused.status(), 401);

    set_enabled(&app, &api, true).await;
    assert_eq!(app.introspect(&api, &access_token).await["active"], true);
    // Revocation is read on every request, never from a cache.
    assert_eq!(app.revoke(&service, &access_token).await.status(), 200);
    assert_eq!(app.introspect(&api, &access_token).await["active"], false);
}
