//! `GET/POST /login` (SECURITY.md 24, 25, 2): one answer for unknown users and wrong
//! passwords, lockout and its expiry, session rotation, and `return_to` kept local.

use diesel::prelude::*;
use shared::models::now;
use shared::schema::login_throttles;

use crate::support::browser::{PASSWORD, assert_busy_form, cookie_value, location, texts};
use crate::support::servers::{spawn_app, spawn_app_with};

#[actix_web::test]
async fn the_form_has_the_contracted_fields_and_button() {
    let app = spawn_app().await;
    let html = app.visitor().get("/login").await.text().await.unwrap();
    assert!(html.contains("name=\"username\""));
    assert!(html.contains("name=\"password\""));
    assert!(html.contains("name=\"csrf_token\""));
    assert_eq!(texts(&html, "form button[type=submit]"), ["Sign in"]);
}

#[actix_web::test]
async fn the_right_password_signs_in() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let alice = app.visitor();

    let response = alice.login("Alice", PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/account");
    assert!(cookie_value(response.headers(), "session").is_some_and(|v| v.starts_with("sess_")));

    let account = alice.get("/account").await;
    assert_eq!(account.status(), 200);
    assert_eq!(texts(&account.text().await.unwrap(), "h1"), ["alice"]);
}

#[actix_web::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.create_user("alice").await;

    let wrong_password = app
        .visitor()
        .login("alice", "not-the-password-at-all")
        .await;
    let unknown_user = app
        .visitor()
        .login("nobody", "not-the-password-at-all")
        .await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_user.status(), 401);
    assert!(cookie_value(wrong_password.headers(), "session").is_none());
    let a = texts(&wrong_password.text().await.unwrap(), ".alert");
    let b = texts(&unknown_user.text().await.unwrap(), ".alert");
    assert_eq!(a, ["The username or password is incorrect."]);
    assert_eq!(a, b);
}

#[actix_web::test]
async fn empty_or_overlong_input_is_a_clear_400() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let empty = visitor.login("", "").await;
    assert_eq!(empty.status(), 400);
    assert!(texts(&empty.text().await.unwrap(), ".alert")[0].contains("Enter your username"));
    let long = visitor.login(&"a".repeat(300), PASSWORD).await;
    assert_eq!(long.status(), 400);
}

async fn fail_times(
    app: &crate::support::servers::TestApp,
    username: &str,
    times: usize,
) -> reqwest::Response {
    let mut last = None;
    for _ in 0..times {
        last = Some(app.visitor().login(username, "wrong-password-guess").await);
    }
    last.expect("at least one attempt")
}

#[actix_web::test]
async fn five_failures_lock_the_account_even_for_the_right_password() {
    let app = spawn_app().await;
    app.create_user("alice").await;

    let fourth = fail_times(&app, "alice", 4).await;
    assert_eq!(fourth.status(), 401, "four failures are not yet a lockout");
    let fifth = app.visitor().login("alice", "wrong-password-guess").await;
    assert_eq!(fifth.status(), 429);
    assert_eq!(fifth.headers()["retry-after"], "900");
    let message = texts(&fifth.text().await.unwrap(), ".alert");
    assert!(message[0].contains("Wait 15 minutes"), "{message:?}");

    let right_password = app.visitor().login("alice", PASSWORD).await;
    assert_eq!(
        right_password.status(),
        429,
        "a locked account refuses the right password"
    );
    assert!(cookie_value(right_password.headers(), "session").is_none());
    assert_eq!(
        texts(&right_password.text().await.unwrap(), ".alert"),
        message
    );

    // An unknown username locks the same way, so the lockout reveals no account.
    let unknown = fail_times(&app, "nobody", 5).await;
    assert_eq!(unknown.status(), 429);
    assert_eq!(texts(&unknown.text().await.unwrap(), ".alert"), message);
}

#[actix_web::test]
async fn a_lockout_ends_after_its_time() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    app.create_user("alice").await;
    assert_eq!(fail_times(&app, "alice", 3).await.status(), 429);
    assert_eq!(app.visitor().login("alice", PASSWORD).await.status(), 429);

    // Fifteen minutes pass.
    app.query(|conn| {
        diesel::update(login_throttles::table)
            .set(login_throttles::locked_until.eq(Some(now() - chrono::Duration::seconds(1))))
            .execute(conn)
    })
    .await;
    assert_eq!(app.visitor().login("alice", PASSWORD).await.status(), 303);
}

#[actix_web::test]
async fn a_successful_sign_in_resets_the_failure_count() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    fail_times(&app, "alice", 4).await;
    assert_eq!(app.visitor().login("alice", PASSWORD).await.status(), 303);
    let after = fail_times(&app, "alice", 4).await;
    assert_eq!(
        after.status(),
        401,
        "the count started again after the success"
    );
}

#[actix_web::test]
async fn signing_in_again_replaces_the_session_id() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let alice = app.visitor();
    let first = alice.login("alice", PASSWORD).await;
    let first_id = cookie_value(first.headers(), "session").unwrap();
    let second = alice.login("alice", PASSWORD).await;
    let second_id = cookie_value(second.headers(), "session").unwrap();
    assert_ne!(first_id, second_id);

    // The first id no longer works anywhere (session fixation defence).
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/account"))
        .header("Cookie", format!("session={first_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
    assert_eq!(location(&replay), "/login?return_to=%2Faccount");
    assert_eq!(
        alice.get("/account").await.status(),
        200,
        "the new session works"
    );
}

#[actix_web::test]
async fn return_to_accepts_local_paths_only() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let local = app
        .visitor()
        .login_to("alice", PASSWORD, "/account?tab=sessions")
        .await;
    assert_eq!(location(&local), "/account?tab=sessions");

    for external in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "http:evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
    ] {
        let response = app.visitor().login_to("alice", PASSWORD, external).await;
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/account", "{external:?} is refused");
    }
}

#[actix_web::test]
async fn return_to_goes_out_in_location_as_the_url_parser_serialises_it() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    // U+560D and U+560A end in the bytes of CR and LF: a server that copied them into
    // Location as raw UTF-8 would hand a byte-truncating proxy a header break.
    let response = app
        .visitor()
        .login_to("alice", PASSWORD, "/account?x=\u{560d}\u{560a}&y=caf\u{e9}")
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        "/account?x=%E5%98%8D%E5%98%8A&y=caf%C3%A9"
    );
    let dotted = app
        .visitor()
        .login_to("alice", PASSWORD, "/apps/../account")
        .await;
    assert_eq!(location(&dotted), "/account");
}

#[actix_web::test]
async fn a_signed_in_person_sees_who_they_are_and_can_switch() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let alice = app.visitor();
    alice.login("alice", PASSWORD).await;
    let html = alice.get("/login").await.text().await.unwrap();
    assert!(
        texts(&html, ".notice")
            .join(" ")
            .contains("You are signed in as alice")
    );
}

/// Sign-ins sent at once: more than one hashing thread and a one-place queue can take.
const STORM: usize = 24;

/// With one hashing thread and one place in its queue, a storm of sign-ins is answered at
/// once: those that find the queue full get the form again with a 503 and `Retry-After`,
/// the others the usual answer; none is a 500 or waits for the rest. Afterwards sign-in
/// works as before.
#[actix_web::test]
async fn a_full_hashing_queue_refuses_sign_ins_at_once_with_retry_after() {
    let app = spawn_app_with(&[("PASSWORD_HASH_THREADS", "1"), ("PASSWORD_HASH_QUEUE", "1")]).await;
    app.create_user("alice").await;
    // Each person's form first, so that the sign-ins themselves leave together.
    let mut people = Vec::new();
    for index in 0..STORM {
        let visitor = app.visitor();
        let csrf = visitor.csrf_from("/login").await;
        people.push((visitor, csrf, format!("storm-{index}")));
    }
    let answers =
        futures_util::future::join_all(people.iter().map(|(visitor, csrf, name)| async move {
            let fields = [
                ("csrf_token", csrf.as_str()),
                ("username", name.as_str()),
                ("password", "wrong-password-guess"),
            ];
            visitor.post_form("/login", &fields).await
        }))
        .await;

    let (mut refused, mut busy) = (0, 0);
    for (answer, (_, _, name)) in answers.into_iter().zip(&people) {
        let status = answer.status().as_u16();
        let retry_after = answer.headers().get("retry-after").cloned();
        let html = answer.text().await.unwrap();
        match status {
            401 => {
                refused += 1;
                assert_eq!(
                    texts(&html, ".alert"),
                    ["The username or password is incorrect."]
                );
            }
            503 => {
                busy += 1;
                assert_busy_form(
                    &html,
                    retry_after.as_ref().and_then(|v| v.to_str().ok()),
                    name,
                );
            }
            other => panic!("{name}: {other}\n{html}"),
        }
    }
    assert!(busy >= 1, "{busy} of {STORM} refused as busy");
    assert!(refused >= 1, "{refused} of {STORM} checked");

    let alice = app.visitor();
    assert_eq!(alice.login("alice", PASSWORD).await.status(), 303);
}
