//! CSRF (SECURITY.md 7): a state-changing POST without the right token changes nothing.

use diesel::prelude::*;
use shared::schema::{sessions, users};

use crate::support::browser::{PASSWORD, browser, cookie_value};
use crate::support::servers::spawn_app;

#[actix_web::test]
async fn sign_in_without_a_matching_token_is_refused() {
    let app = spawn_app().await;
    app.create_user("alice").await;

    // A token from another browser (the attacker's own) does not match this browser's cookie.
    let attacker_token = app.csrf_from_with(&browser(), "/login").await;
    let victim = browser();
    let _victim_has_a_cookie = app.csrf_from_with(&victim, "/login").await;
    let response = app
        .post_form_with(
            &victim,
            "/login",
            &[
                ("csrf_token", &attacker_token),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(cookie_value(response.headers(), "session").is_none());
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This form has expired")
    );

    // No cookie at all (a cross-site form post from a fresh browser).
    let response = app
        .post_form_with(
            &browser(),
            "/login",
            &[
                ("csrf_token", &attacker_token),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);

    // No token field at all.
    let response = app
        .post_form_with(
            &victim,
            "/login",
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 400);
    let count: i64 = app
        .query(|conn| sessions::table.count().get_result(conn))
        .await;
    assert_eq!(count, 0);
}

#[actix_web::test]
async fn registration_without_a_matching_token_creates_nothing() {
    let app = spawn_app().await;
    let client = browser();
    let _cookie = app.csrf_from_with(&client, "/register").await;
    let response = app
        .post_form_with(
            &client,
            "/register",
            &[
                ("csrf_token", "forged-forged-forged-forged-forged-forged-f"),
                ("username", "mallory"),
                ("email", "m@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
    let count: i64 = app
        .query(|conn| users::table.count().get_result(conn))
        .await;
    assert_eq!(count, 0);
}

#[actix_web::test]
async fn logout_and_ending_sessions_need_the_sessions_token() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    assert_eq!(app.login("alice", PASSWORD).await.status(), 303);

    // The anonymous token (from the login page) is not the signed-in session's token.
    let wrong = app.csrf_from_with(&app.client, "/login").await;
    let response = app.post_form("/logout", &[("csrf_token", &wrong)]).await;
    assert_eq!(response.status(), 403);
    assert_eq!(app.get("/account").await.status(), 200, "still signed in");

    let session_row: String = app
        .query(|conn| sessions::table.select(sessions::id).first(conn))
        .await;
    let response = app
        .post_form(
            &format!("/account/sessions/{session_row}/end"),
            &[("csrf_token", &wrong)],
        )
        .await;
    assert_eq!(response.status(), 403);
    let count: i64 = app
        .query(|conn| sessions::table.count().get_result(conn))
        .await;
    assert_eq!(count, 1);
}
