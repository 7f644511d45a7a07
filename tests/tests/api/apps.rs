//! The connected-apps page (SECURITY.md 9): a person sees the apps they allowed and
//! revokes one, which revokes that app's refresh and access tokens.

use diesel::prelude::*;
use shared::schema::consents;

use crate::support::browser::{TestUser, hidden_field, location, texts};
use crate::support::oauth_client::{ClientOptions, pkce, resource_server};
use crate::support::servers::spawn_app;

#[actix_web::test]
async fn a_person_sees_and_revokes_an_app() {
    let app = spawn_app().await;
    let client = app
        .register_client(ClientOptions {
            name: "Photo <Printer>".into(),
            ..ClientOptions::default()
        })
        .await;
    let api = app.register_client(resource_server()).await;
    let alice = app.signed_in_user("alice").await;
    let tokens = alice.tokens_for(&client).await;

    let page = alice.get("/account/apps").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let rows = texts(&html, "table tbody tr");
    assert_eq!(rows.len(), 1);
    assert!(rows[0].contains("Photo <Printer>"), "{rows:?}");
    assert!(
        rows[0].contains("See your tasks")
            && rows[0].contains("Create, change and delete your tasks")
    );
    assert!(!html.contains("<Printer>"), "the name is escaped");

    // Without the session's CSRF token nothing happens.
    let forged = alice
        .post_form(
            &format!("/account/apps/{}/revoke", client.client_id),
            &[("csrf_token", "forged")],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(
        app.introspect(&api, tokens["access_token"].as_str().unwrap())
            .await["active"],
        true
    );

    let csrf = hidden_field(&html, "csrf_token").unwrap();
    let revoked = alice
        .post_form(
            &format!("/account/apps/{}/revoke", client.client_id),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(revoked.status(), 303);
    assert_eq!(location(&revoked), "/account/apps?revoked=1");
    for kind in ["access_token", "refresh_token"] {
        assert_eq!(
            app.introspect(&api, tokens[kind].as_str().unwrap()).await["active"],
            false,
            "{kind}"
        );
    }
    let left: i64 = app.query(|c| consents::table.count().get_result(c)).await;
    assert_eq!(left, 0);
    let after = alice
        .get("/account/apps?revoked=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(texts(&after, ".notice")[0].contains("revoked"));
    assert!(texts(&after, "table tbody tr").is_empty());

    // The app must ask again.
    let again = alice
        .get(&app.authorize_request(&client, &pkce(), "s"))
        .await;
    assert_eq!(
        again.status(),
        200,
        "the consent page, not a silent redirect"
    );

    let unknown = alice
        .post_form("/account/apps/client_nope/revoke", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(unknown.status(), 404);
}

#[actix_web::test]
async fn the_apps_page_needs_a_signed_in_person() {
    let app = spawn_app().await;
    let response = app.visitor().get("/account/apps").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?return_to=%2Faccount%2Fapps");
}

/// Revokes `client_id` from the apps page with the session's CSRF token.
async fn revoke_from_page(user: &TestUser, client_id: &str) -> reqwest::Response {
    let html = user.get("/account/apps").await.text().await.unwrap();
    let csrf = hidden_field(&html, "csrf_token").unwrap();
    user.post_form(
        &format!("/account/apps/{client_id}/revoke"),
        &[("csrf_token", &csrf)],
    )
    .await
}

#[actix_web::test]
async fn revoking_an_app_burns_the_codes_it_has_not_exchanged_yet() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let alice = app.signed_in_user("alice").await;
    let p = pkce();
    let code = alice.obtain_code(&client, &p).await;

    assert_eq!(
        revoke_from_page(&alice, &client.client_id).await.status(),
        303
    );
    let left: i64 = app
        .query(|c| {
            shared::schema::authorization_codes::table
                .count()
                .get_result(c)
        })
        .await;
    assert_eq!(left, 0, "the code is gone");
    let exchange = app.exchange_code(&client, &code, Some(&p.verifier)).await;
    assert_eq!(exchange.status(), 400);
    let body: serde_json::Value = exchange.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[actix_web::test]
async fn a_first_party_app_is_listed_while_it_holds_tokens_and_can_be_revoked() {
    let app = spawn_app().await;
    let client = app
        .register_client(ClientOptions {
            name: "Our Web App".into(),
            first_party: true,
            ..ClientOptions::default()
        })
        .await;
    let api = app.register_client(resource_server()).await;
    let alice = app.signed_in_user("alice").await;
    let tokens = alice.tokens_for(&client).await;
    let consents: i64 = app.query(|c| consents::table.count().get_result(c)).await;
    assert_eq!(consents, 0, "a first-party app is never asked");

    let html = alice.get("/account/apps").await.text().await.unwrap();
    let rows = texts(&html, "table tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("Our Web App") && rows[0].contains("See your tasks"));

    assert_eq!(
        revoke_from_page(&alice, &client.client_id).await.status(),
        303
    );
    for kind in ["access_token", "refresh_token"] {
        assert_eq!(
            app.introspect(&api, tokens[kind].as_str().unwrap()).await["active"],
            false,
            "{kind}"
        );
    }
    let after = alice.get("/account/apps").await.text().await.unwrap();
    assert!(texts(&after, "table tbody tr").is_empty());
}

#[actix_web::test]
async fn a_family_whose_tokens_have_all_expired_is_not_listed() {
    use shared::schema::{access_tokens, refresh_tokens};
    let app = spawn_app().await;
    let client = app
        .register_client(ClientOptions {
            first_party: true,
            ..ClientOptions::default()
        })
        .await;
    let alice = app.signed_in_user("alice").await;
    alice.tokens_for(&client).await;
    let past = shared::models::now() - chrono::Duration::hours(1);
    app.query(move |c| {
        diesel::update(refresh_tokens::table)
            .set(refresh_tokens::expires_at.eq(past))
            .execute(c)?;
        diesel::update(access_tokens::table)
            .set(access_tokens::expires_at.eq(past))
            .execute(c)
    })
    .await;
    let html = alice.get("/account/apps").await.text().await.unwrap();
    assert!(texts(&html, "table tbody tr").is_empty(), "{html}");
}
