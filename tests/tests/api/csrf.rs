//! CSRF (SECURITY.md 7): a state-changing POST without the right token changes nothing.

use diesel::prelude::*;
use shared::schema::{sessions, users};

use crate::support::browser::{PASSWORD, cookie_value};
use crate::support::servers::spawn_app;

#[actix_web::test]
async fn sign_in_without_a_matching_token_is_refused() {
    let app = spawn_app().await;
    app.create_user("alice").await;

    // A token from another browser (the attacker's own) does not match this browser's cookie.
    let attacker_token = app.visitor().csrf_from("/login").await;
    let victim = app.visitor();
    let _victim_has_a_cookie = victim.csrf_from("/login").await;
    let response = victim
        .post_form(
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
        .visitor()
        .post_form(
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
    let response = victim
        .post_form("/login", &[("username", "alice"), ("password", PASSWORD)])
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
    let visitor = app.visitor();
    let _cookie = visitor.csrf_from("/register").await;
    let response = visitor
        .post_form(
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
    let alice = app.visitor();
    assert_eq!(alice.login("alice", PASSWORD).await.status(), 303);

    // The anonymous token (from the login page) is not the signed-in session's token.
    let wrong = alice.csrf_from("/login").await;
    let response = alice.post_form("/logout", &[("csrf_token", &wrong)]).await;
    assert_eq!(response.status(), 403);
    assert_eq!(alice.get("/account").await.status(), 200, "still signed in");

    let session_row: String = app
        .query(|conn| sessions::table.select(sessions::id).first(conn))
        .await;
    let response = alice
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

#[actix_web::test]
async fn password_and_email_changes_and_deletions_need_the_sessions_token() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let alice = app.visitor();
    assert_eq!(alice.login("alice", PASSWORD).await.status(), 303);
    let wrong = alice.csrf_from("/login").await;
    let changed = alice
        .post_form(
            "/account/password",
            &[
                ("csrf_token", &wrong),
                ("current_password", PASSWORD),
                ("new_password", "marble-heron-lantern-97"),
            ],
        )
        .await;
    assert_eq!(changed.status(), 403);
    let deleted = alice
        .post_form(
            "/account/delete",
            &[("csrf_token", &wrong), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(deleted.status(), 403);
    let email = alice
        .post_form(
            "/account/email",
            &[
                ("csrf_token", &wrong),
                ("email", "mallory@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(email.status(), 403);
    let forgot = app
        .visitor()
        .post_form(
            "/forgot-password",
            &[("csrf_token", &wrong), ("login", "alice")],
        )
        .await;
    assert_eq!(
        forgot.status(),
        403,
        "the token belongs to another browser's cookie"
    );
    assert_eq!(
        app.visitor().login("alice", PASSWORD).await.status(),
        303,
        "unchanged"
    );
    let count: i64 = app
        .query(|conn| users::table.count().get_result(conn))
        .await;
    assert_eq!(count, 1);
}
