//! Public clients are not answered silently (RFC 8252 §8.6, RFC 6749 §10.2): anyone can
//! send a person to `/authorize` in a public client's name, so a code is issued only after
//! a click on our page — a one-click “Continue to APP as USER” when consent is remembered —
//! unless the client is first-party and redirects to `https` URIs only.

use diesel::prelude::*;
use shared::schema::authorization_codes;

use crate::support::browser::{TestUser, location, texts};
use crate::support::oauth_client::{ClientOptions, REDIRECT_URI, TestClient, pkce, query_param};
use crate::support::servers::{TestApp, spawn_app};

async fn codes_stored(app: &TestApp) -> i64 {
    app.query(|c| authorization_codes::table.count().get_result(c))
        .await
}

/// `GET /authorize` for `client`: asserts the one-click page, and that no code exists yet.
async fn assert_continue_page(app: &TestApp, alice: &TestUser, client: &TestClient, name: &str) {
    let before = codes_stored(app).await;
    let response = alice
        .get(&app.authorize_request(client, &pkce(), "s"))
        .await;
    assert_eq!(response.status(), 200, "{}", location(&response));
    assert!(response.headers().get("location").is_none());
    let html = response.text().await.unwrap();
    let buttons = texts(&html, "form.decision button");
    assert_eq!(
        buttons,
        ["Deny".to_owned(), format!("Continue to {name} as alice")],
        "{html}"
    );
    assert_eq!(codes_stored(app).await, before, "no code before the click");
}

#[actix_web::test]
async fn a_public_client_with_remembered_consent_needs_one_click() {
    let app = spawn_app().await;
    let client = app
        .register_client(ClientOptions {
            name: "Desktop App".into(),
            redirect_uris: vec!["http://127.0.0.1/callback".into()],
            public: true,
            ..ClientOptions::default()
        })
        .await;
    let alice = app.signed_in_user("alice").await;
    let first = alice
        .authorize(&app.authorize_request(&client, &pkce(), "s"), "allow")
        .await;
    assert!(location(&first).contains("code="), "{}", location(&first));

    assert_continue_page(&app, &alice, &client, "Desktop App").await;
    // The click issues the code, to the redirect URI, with state and iss.
    let before = codes_stored(&app).await;
    let to = location(
        &alice
            .authorize(&app.authorize_request(&client, &pkce(), "s"), "allow")
            .await,
    );
    assert!(to.starts_with("http://127.0.0.1/callback?code="), "{to}");
    assert_eq!(query_param(&to, "state").as_deref(), Some("s"));
    assert_eq!(codes_stored(&app).await, before + 1);
    // And Deny still says no.
    let denied = location(
        &alice
            .authorize(&app.authorize_request(&client, &pkce(), "s"), "deny")
            .await,
    );
    assert_eq!(
        query_param(&denied, "error").as_deref(),
        Some("access_denied")
    );
}

#[actix_web::test]
async fn a_first_party_public_client_is_silent_only_with_https_redirect_uris() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    for redirect_uris in [
        vec!["http://127.0.0.1/callback"],
        vec!["com.example.app:/callback"],
        vec![REDIRECT_URI, "http://[::1]/callback"],
    ] {
        let client = app
            .register_client(ClientOptions {
                name: "Our App".into(),
                redirect_uris: redirect_uris.iter().map(|u| (*u).to_owned()).collect(),
                public: true,
                first_party: true,
                ..ClientOptions::default()
            })
            .await;
        assert_continue_page(&app, &alice, &client, "Our App").await;
    }
    // First-party, https only: the operating system verifies the link; no page.
    let claimed = app
        .register_client(ClientOptions {
            public: true,
            first_party: true,
            ..ClientOptions::default()
        })
        .await;
    let response = alice
        .get(&app.authorize_request(&claimed, &pkce(), "s"))
        .await;
    assert_eq!(response.status(), 302);
    assert!(location(&response).starts_with(&format!("{REDIRECT_URI}?code=")));
    // First-party and confidential: the client authenticates, so no page either.
    let confidential = app
        .register_client(ClientOptions {
            redirect_uris: vec!["http://127.0.0.1/callback".into()],
            first_party: true,
            ..ClientOptions::default()
        })
        .await;
    let response = alice
        .get(&app.authorize_request(&confidential, &pkce(), "s"))
        .await;
    assert_eq!(response.status(), 302);
}

#[actix_web::test]
async fn a_confidential_client_with_remembered_consent_goes_straight_back() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let alice = app.signed_in_user("alice").await;
    alice
        .authorize(&app.authorize_request(&client, &pkce(), "s"), "allow")
        .await;
    let again = alice
        .get(&app.authorize_request(&client, &pkce(), "s"))
        .await;
    assert_eq!(again.status(), 302);
    assert!(location(&again).starts_with(&format!("{REDIRECT_URI}?code=")));
}
