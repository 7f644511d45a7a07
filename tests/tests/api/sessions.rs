//! Browser sessions (SECURITY.md 25): cookie attributes, hashed storage, idle and absolute
//! expiry, server-side logout, the account page's session list, and the per-user limit.

use diesel::prelude::*;
use shared::models::now;
use shared::schema::sessions;
use shared::token::HashedToken;

use crate::support::browser::{PASSWORD, TestUser, cookie_value, location, set_cookies, texts};
use crate::support::servers::{TestApp, spawn_app, spawn_app_with};

/// A client that sends exactly the given session cookie and nothing else.
async fn get_with_session(app: &TestApp, session_id: &str, path: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header("Cookie", format!("session={session_id}"))
        .send()
        .await
        .unwrap()
}

async fn signed_in(browser: &TestUser) -> String {
    let response = browser.login("alice", PASSWORD).await;
    assert_eq!(response.status(), 303);
    cookie_value(response.headers(), "session").unwrap()
}

#[actix_web::test]
async fn the_session_cookie_is_httponly_lax_and_host_wide() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let response = app.visitor().login("alice", PASSWORD).await;
    let cookie = set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with("session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(cookie.contains("Max-Age=86400"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback in development: {cookie}"
    );
    assert!(!cookie.contains("Domain"), "{cookie}");
}

#[actix_web::test]
async fn over_https_the_cookies_are_secure_and_host_prefixed() {
    let app = spawn_app_with(&[("ISSUER", "https://auth.example.test")]).await;
    app.create_user("alice").await;
    // A browser would send these cookies only over https; send them by hand here.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = plain.get(app.url("/login")).send().await.unwrap();
    let csrf_cookie = set_cookies(page.headers())
        .into_iter()
        .find(|c| c.starts_with("__Host-csrf="))
        .unwrap();
    assert!(
        csrf_cookie.contains("Secure") && csrf_cookie.contains("Path=/"),
        "{csrf_cookie}"
    );
    let csrf = cookie_value(page.headers(), "__Host-csrf").unwrap();
    let response = plain
        .post(app.url("/login"))
        .header("Cookie", format!("__Host-csrf={csrf}"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with("__Host-session="))
        .unwrap();
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
}

#[actix_web::test]
async fn only_a_hash_of_the_session_id_is_stored() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let alice = app.visitor();
    let session_id = signed_in(&alice).await;
    let stored: Vec<(String, String)> = app
        .query(|conn| {
            sessions::table
                .select((sessions::id, sessions::token_hash))
                .load(conn)
        })
        .await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1, HashedToken::of(&session_id).as_str());
    assert!(!stored[0].0.contains(&session_id) && !stored[0].1.contains(&session_id));
    // 256 random bits after the prefix.
    assert_eq!(session_id.len(), "sess_".len() + 43);
}

#[actix_web::test]
async fn an_idle_session_ends_after_30_minutes() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let alice = app.visitor();
    let session_id = signed_in(&alice).await;

    // 29 minutes idle: still alive, and the visit counts as activity.
    let stale = now() - chrono::Duration::minutes(29);
    app.query(move |conn| {
        diesel::update(sessions::table)
            .set(sessions::last_seen_at.eq(stale))
            .execute(conn)
    })
    .await;
    assert_eq!(
        get_with_session(&app, &session_id, "/account")
            .await
            .status(),
        200
    );
    let seen: chrono::NaiveDateTime = app
        .query(|conn| sessions::table.select(sessions::last_seen_at).first(conn))
        .await;
    assert!(
        seen > stale + chrono::Duration::minutes(28),
        "activity was recorded"
    );

    // 31 minutes idle: gone, and the row is removed.
    let idle = now() - chrono::Duration::minutes(31);
    app.query(move |conn| {
        diesel::update(sessions::table)
            .set(sessions::last_seen_at.eq(idle))
            .execute(conn)
    })
    .await;
    let response = get_with_session(&app, &session_id, "/account").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?return_to=%2Faccount");
    let left: i64 = app
        .query(|conn| sessions::table.count().get_result(conn))
        .await;
    assert_eq!(left, 0);
}

#[actix_web::test]
async fn a_session_ends_at_its_absolute_lifetime_however_active() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let alice = app.visitor();
    let session_id = signed_in(&alice).await;
    let stored_expiry: chrono::NaiveDateTime = app
        .query(|conn| sessions::table.select(sessions::expires_at).first(conn))
        .await;
    let lifetime = stored_expiry - now();
    assert!(lifetime > chrono::Duration::hours(23) && lifetime <= chrono::Duration::hours(24));

    let past = now() - chrono::Duration::seconds(1);
    app.query(move |conn| {
        diesel::update(sessions::table)
            .set(sessions::expires_at.eq(past))
            .execute(conn)
    })
    .await;
    assert_eq!(
        get_with_session(&app, &session_id, "/account")
            .await
            .status(),
        303
    );
}

#[actix_web::test]
async fn logout_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let alice = app.visitor();
    let session_id = signed_in(&alice).await;
    let csrf = alice.account_csrf().await;

    let response = alice.post_form("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?signed_out=1");
    let removal = set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with("session="))
        .unwrap();
    assert!(removal.contains("Max-Age=0"), "{removal}");

    // A copy of the old cookie is worthless: the server forgot the session.
    assert_eq!(
        get_with_session(&app, &session_id, "/account")
            .await
            .status(),
        303
    );
    let left: i64 = app
        .query(|conn| sessions::table.count().get_result(conn))
        .await;
    assert_eq!(left, 0);
    let page = alice.get("/login?signed_out=1").await.text().await.unwrap();
    assert!(texts(&page, ".notice").join(" ").contains("signed out"));
}

#[actix_web::test]
async fn the_account_page_lists_sessions_and_ends_one() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let laptop = app.visitor();
    let phone = app.visitor();
    signed_in(&laptop).await;
    let phone_session = signed_in(&phone).await;

    let html = laptop.get("/account").await.text().await.unwrap();
    let rows = texts(&html, "table.sessions tbody tr");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r.contains("this device")).count(), 1);
    assert!(rows[0].contains("Firefox on Linux"), "{rows:?}");
    let signout = texts(&html, "form[action=\"/logout\"] button");
    assert_eq!(signout, ["Sign out"]);

    // End the phone's session from the laptop.
    let phone_row_id: String = app
        .query(move |conn| {
            sessions::table
                .filter(
                    sessions::token_hash.eq(HashedToken::of(&phone_session).as_str().to_owned()),
                )
                .select(sessions::id)
                .first(conn)
        })
        .await;
    let csrf = laptop.account_csrf().await;
    let ended = laptop
        .post_form(
            &format!("/account/sessions/{phone_row_id}/end"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(ended.status(), 303);
    assert_eq!(location(&ended), "/account?ended=1");
    assert_eq!(
        phone.get("/account").await.status(),
        303,
        "the phone is signed out"
    );
    assert_eq!(
        laptop.get("/account").await.status(),
        200,
        "the laptop is not"
    );
}

#[actix_web::test]
async fn nobody_can_end_another_persons_session() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.visitor();
    signed_in(&alice).await;
    let alice_row: String = app
        .query(|conn| sessions::table.select(sessions::id).first(conn))
        .await;

    let bob = app.visitor();
    assert_eq!(bob.login("bob", PASSWORD).await.status(), 303);
    let csrf = bob.account_csrf().await;
    let response = bob
        .post_form(
            &format!("/account/sessions/{alice_row}/end"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(alice.get("/account").await.status(), 200);
}

#[actix_web::test]
async fn the_oldest_session_ends_beyond_the_per_user_limit() {
    let app = spawn_app_with(&[("SESSION_MAX_PER_USER", "2")]).await;
    app.create_user("alice").await;
    let (first, second, third) = (app.visitor(), app.visitor(), app.visitor());
    signed_in(&first).await;
    signed_in(&second).await;
    signed_in(&third).await;
    assert_eq!(
        first.get("/account").await.status(),
        303,
        "the oldest ended"
    );
    assert_eq!(second.get("/account").await.status(), 200);
    assert_eq!(third.get("/account").await.status(), 200);
    let count: i64 = app
        .query(|conn| sessions::table.count().get_result(conn))
        .await;
    assert_eq!(count, 2);
}
