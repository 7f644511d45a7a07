//! The connected-apps page (SECURITY.md 9): a person sees the apps they allowed and
//! revokes one, which revokes that app's refresh and access tokens.

use diesel::prelude::*;
use shared::schema::consents;

use crate::flow::{ClientOptions, pkce, resource_server};
use crate::helpers::{location, spawn_app, texts};

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
    let tokens = app.tokens_for(&client, "alice").await;

    let page = app.get("/account/apps").await;
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
    let forged = app
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

    let csrf = crate::helpers::hidden_field(&html, "csrf_token").unwrap();
    let revoked = app
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
    let after = app
        .get("/account/apps?revoked=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(texts(&after, ".notice")[0].contains("revoked"));
    assert!(texts(&after, "table tbody tr").is_empty());

    // The app must ask again.
    let again = app.get(&app.authorize_request(&client, &pkce(), "s")).await;
    assert_eq!(
        again.status(),
        200,
        "the consent page, not a silent redirect"
    );

    let unknown = app
        .post_form("/account/apps/client_nope/revoke", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(unknown.status(), 404);
}

#[actix_web::test]
async fn the_apps_page_needs_a_signed_in_person() {
    let app = spawn_app().await;
    let response = app.get("/account/apps").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?return_to=%2Faccount%2Fapps");
}
