//! `GET/POST /register` (SECURITY.md 23): validation, storage, and no account leak.

use diesel::prelude::*;
use shared::schema::users;

use crate::support::browser::{PASSWORD, assert_busy_form, location, texts};
use crate::support::servers::{spawn_app, spawn_app_with};

#[actix_web::test]
async fn the_form_has_the_contracted_fields_and_button() {
    let app = spawn_app().await;
    let response = app.visitor().get("/register").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    for field in ["username", "email", "password", "csrf_token"] {
        assert!(html.contains(&format!("name=\"{field}\"")), "field {field}");
    }
    assert_eq!(texts(&html, "form button[type=submit]"), ["Create account"]);
}

#[actix_web::test]
async fn registering_stores_a_hashed_password_and_signs_in() {
    let app = spawn_app().await;
    let alice = app.visitor();
    let response = alice.register("Alice", "Alice@Example.com", PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/account");

    let account = alice.get("/account").await;
    assert_eq!(account.status(), 200);
    let html = account.text().await.unwrap();
    assert!(
        html.contains("alice"),
        "the account page shows the new user"
    );

    let (username, email, hash): (String, String, String) = app
        .query(|conn| {
            users::table
                .select((users::username, users::email, users::password_hash))
                .first(conn)
        })
        .await;
    assert_eq!(username, "alice", "usernames are stored lower-cased");
    assert_eq!(email, "alice@example.com");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
}

#[actix_web::test]
async fn each_invalid_field_is_reported_beside_it_and_nothing_is_stored() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let cases = [
        (
            "ab",
            "ok@example.com",
            PASSWORD,
            "username-error",
            "3 to 32",
        ),
        (
            "bad name",
            "ok@example.com",
            PASSWORD,
            "username-error",
            "letters",
        ),
        (
            "carol",
            "not-an-email",
            PASSWORD,
            "email-error",
            "name@example.com",
        ),
        (
            "carol",
            "ok@example.com",
            "short1A",
            "password-error",
            "at least 12",
        ),
        (
            "carol",
            "ok@example.com",
            "password1234",
            "password-error",
            "too easy to guess",
        ),
        (
            "carol",
            "ok@example.com",
            "Password123",
            "password-error",
            "too easy to guess",
        ),
        (
            "carol",
            "ok@example.com",
            &"x".repeat(129),
            "password-error",
            "at most 128",
        ),
    ];
    for (username, email, password, error_id, message) in cases {
        let response = visitor.register(username, email, password).await;
        assert_eq!(response.status(), 400, "{username} {email} {password}");
        let html = response.text().await.unwrap();
        let shown = texts(&html, &format!("#{error_id}")).join(" ");
        assert!(
            shown.contains(message),
            "{error_id}: {shown:?} should mention {message:?}"
        );
        assert!(
            !html.contains(&format!("value=\"{password}\"")),
            "the password is never echoed"
        );
    }
    let count: i64 = app
        .query(|conn| users::table.count().get_result(conn))
        .await;
    assert_eq!(count, 0);
}

#[actix_web::test]
async fn a_taken_username_or_email_gets_one_message_that_names_neither() {
    let app = spawn_app().await;
    app.create_user("dave").await;

    let same_username = app
        .visitor()
        .register("DAVE", "other@example.com", PASSWORD)
        .await;
    let same_email = app
        .visitor()
        .register("dave2", "dave@example.com", PASSWORD)
        .await;
    assert_eq!(same_username.status(), 409);
    assert_eq!(same_email.status(), 409);
    let first = texts(&same_username.text().await.unwrap(), ".alert");
    let second = texts(&same_email.text().await.unwrap(), ".alert");
    assert_eq!(first, second);
    assert!(first[0].contains("cannot be used"), "{first:?}");

    let count: i64 = app
        .query(|conn| users::table.count().get_result(conn))
        .await;
    assert_eq!(count, 1);
}

#[actix_web::test]
async fn return_to_after_registration_must_be_local() {
    let app = spawn_app().await;
    let erin = app.visitor();
    let csrf = erin
        .csrf_from("/register?return_to=%2Faccount%3Fwelcome%3D1")
        .await;
    let response = erin
        .post_form(
            "/register",
            &[
                ("csrf_token", &csrf),
                ("username", "erin"),
                ("email", "erin@example.com"),
                ("password", PASSWORD),
                ("return_to", "/account?welcome=1"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/account?welcome=1");

    let frank = app.visitor();
    let csrf = frank.csrf_from("/register").await;
    let response = frank
        .post_form(
            "/register",
            &[
                ("csrf_token", &csrf),
                ("username", "frank"),
                ("email", "frank@example.com"),
                ("password", PASSWORD),
                ("return_to", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/account");
}

/// With one hashing thread and one place in its queue, sign-ups sent at once that find
/// the queue full get their form back, filled in, with a 503 and `Retry-After`, and no
/// account; the others are created. None is a 500.
#[actix_web::test]
async fn a_full_hashing_queue_refuses_sign_ups_at_once_and_stores_nothing() {
    const STORM: usize = 16;
    let app = spawn_app_with(&[("PASSWORD_HASH_THREADS", "1"), ("PASSWORD_HASH_QUEUE", "1")]).await;
    let mut people = Vec::new();
    for index in 0..STORM {
        let visitor = app.visitor();
        let csrf = visitor.csrf_from("/register").await;
        people.push((visitor, csrf, format!("storm-{index}")));
    }
    let emails: Vec<String> = people
        .iter()
        .map(|(_, _, name)| format!("{name}@example.com"))
        .collect();
    let answers = futures_util::future::join_all(people.iter().zip(&emails).map(
        |((visitor, csrf, name), email)| async move {
            let fields = [
                ("csrf_token", csrf.as_str()),
                ("username", name.as_str()),
                ("email", email.as_str()),
                ("password", PASSWORD),
            ];
            visitor.post_form("/register", &fields).await
        },
    ))
    .await;

    let mut created = Vec::new();
    let mut busy = 0;
    for (answer, (_, _, name)) in answers.into_iter().zip(&people) {
        let status = answer.status().as_u16();
        let retry_after = answer.headers().get("retry-after").cloned();
        let html = answer.text().await.unwrap();
        match status {
            303 => created.push(name.clone()),
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
    assert!(!created.is_empty(), "some were created");
    let mut stored: Vec<String> = app
        .query(|conn| users::table.select(users::username).load(conn))
        .await;
    stored.sort();
    created.sort();
    assert_eq!(stored, created, "exactly the accepted sign-ups are stored");
}
