//! The client-credentials grant (RFC 6749 §4.4).

use crate::support::oauth_client::{ClientOptions, resource_server, service_client};
use crate::support::servers::spawn_app;

#[actix_web::test]
async fn a_confidential_client_gets_a_token_for_itself() {
    let app = spawn_app().await;
    let service = app.register_client(service_client()).await;
    let api = app.register_client(resource_server()).await;
    let response = app
        .token_request(&service, &[("grant_type", "client_credentials".to_owned())])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body.get("refresh_token").is_none(),
        "no refresh token (RFC 6749 §4.4.3)"
    );
    assert_eq!(body["scope"], "tasks:read tasks:write");
    let claims = app
        .verify_access_token(body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(claims["sub"], service.client_id.as_str());
    assert_eq!(claims["client_id"], service.client_id.as_str());
    let seen = app
        .introspect(&api, body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["sub"], service.client_id.as_str());

    let narrowed: serde_json::Value = app
        .token_request(
            &service,
            &[
                ("grant_type", "client_credentials".to_owned()),
                ("scope", "tasks:read".to_owned()),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(narrowed["scope"], "tasks:read");
}

#[actix_web::test]
async fn a_scope_beyond_the_clients_is_refused() {
    let app = spawn_app().await;
    let service = app
        .register_client(ClientOptions {
            scope: "tasks:read".into(),
            ..service_client()
        })
        .await;
    let response = app
        .token_request(
            &service,
            &[
                ("grant_type", "client_credentials".to_owned()),
                ("scope", "tasks:write".to_owned()),
            ],
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_scope"
    );
}

#[actix_web::test]
async fn clients_not_registered_for_it_are_refused() {
    let app = spawn_app().await;
    let web_app = app.register_client(ClientOptions::default()).await;
    let response = app
        .token_request(&web_app, &[("grant_type", "client_credentials".to_owned())])
        .await;
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
    // A public client cannot be registered for it at all.
    let refused = auth_server::oauth::clients::register(
        &app.db,
        auth_server::oauth::clients::NewClient {
            name: "SPA".into(),
            redirect_uris: vec![],
            scope: "tasks:read".into(),
            grant_types: vec!["client_credentials".into()],
            is_public: true,
            is_first_party: false,
            require_pkce: true,
            is_resource_server: false,
            id_token_signed_response_alg: None,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            require_mfa: false,
        },
    )
    .await;
    assert!(refused.is_err());
}
