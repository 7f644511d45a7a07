//! Clients authenticated from the server's in-memory cache: a change to a client made
//! anywhere else — another instance, the operator CLI, straight in the database — takes
//! effect on the very next request, and a request refused for it writes nothing.

use diesel::prelude::*;
use shared::schema::{access_tokens, authorization_codes, refresh_tokens};

use crate::support::browser::{hidden_field, location};
use crate::support::oauth_client::{
    ClientOptions, TestClient, field, pkce, query_param, resource_server, service_client,
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

async fn stored_codes(app: &TestApp) -> i64 {
    app.query(|c| authorization_codes::table.count().get_result(c))
        .await
}

#[actix_web::test]
async fn a_disabled_client_gets_no_code_from_a_remembered_consent() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let alice = app.signed_in_user("alice").await;
    let request = app.authorize_request(&client, &pkce(), "s1");
    // Consent once; the next request is answered at once, from the cached client.
    alice.authorize(&request, "allow").await;
    let answered = alice.get(&request).await;
    assert_eq!(answered.status(), 302);
    assert!(query_param(&location(&answered), "code").is_some());
    assert_eq!(stored_codes(&app).await, 2);

    set_enabled(&app, &client, false).await;
    let refused = alice.get(&request).await;
    assert_eq!(refused.status(), 400, "our page, not a redirect");
    assert!(refused.text().await.unwrap().contains("has been disabled"));
    assert_eq!(stored_codes(&app).await, 2, "no code was stored");

    set_enabled(&app, &client, true).await;
    let answered = alice.get(&request).await;
    assert_eq!(answered.status(), 302);
    assert!(query_param(&location(&answered), "code").is_some());
    assert_eq!(stored_codes(&app).await, 3);
}

#[actix_web::test]
async fn a_consent_taken_back_is_asked_for_again_though_the_client_is_cached() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let alice = app.signed_in_user("alice").await;
    let request = app.authorize_request(&client, &pkce(), "s1");
    alice.authorize(&request, "allow").await;
    assert_eq!(alice.get(&request).await.status(), 302);

    // Taken back on the connected-apps page.
    let html = alice.get("/account/apps").await.text().await.unwrap();
    let csrf = hidden_field(&html, "csrf_token").unwrap();
    let revoked = alice
        .post_form(
            &format!("/account/apps/{}/revoke", client.client_id),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(location(&revoked), "/account/apps?revoked=1");
    let asked = alice.get(&request).await;
    assert_eq!(asked.status(), 200, "the consent page again");
    assert!(asked.text().await.unwrap().contains("name=\"decision\""));
    assert_eq!(
        stored_codes(&app).await,
        0,
        "revoking burnt the unused codes"
    );
}

#[actix_web::test]
async fn another_instance_sees_a_client_disabled_elsewhere_before_issuing_a_code() {
    let app = spawn_app().await;
    let other = app.another_instance(&[]).await;
    let client = app.register_client(ClientOptions::default()).await;
    let alice = app.signed_in_user("alice").await;
    let request = app.authorize_request(&client, &pkce(), "s1");
    alice.authorize(&request, "allow").await;
    assert_eq!(alice.get(&request).await.status(), 302);
    let before = stored_codes(&app).await;

    // Disabled through the other instance's own database handle.
    let changed =
        auth_server::oauth::clients::set_enabled(&other.db, client.client_id.clone(), false)
            .await
            .unwrap();
    assert!(changed);
    assert_eq!(alice.get(&request).await.status(), 400);
    assert_eq!(stored_codes(&app).await, before);
}
