//! Personal API keys (SECURITY.md 22): created on the account page and shown once, stored
//! hashed with a visible prefix, scoped, expiring, revocable at once, last use recorded.

use diesel::prelude::*;
use reqwest::Method;
use shared::schema::api_keys;

use crate::support::browser::{PASSWORD, TestUser, hidden_field, location, texts};
use crate::support::servers::{TestStack, spawn_stack};

/// Creates a key on the account page; returns its value from the one page that shows it.
async fn create_key(user: &TestUser, name: &str, read: bool, write: bool) -> String {
    let csrf = user.account_csrf().await;
    let mut form = vec![
        ("csrf_token", csrf.as_str()),
        ("name", name),
        ("expires_in_days", "30"),
    ];
    if read {
        form.push(("read", "1"));
    }
    if write {
        form.push(("write", "1"));
    }
    let response = user.post_form("/account/api-keys", &form).await;
    assert_eq!(response.status(), 201);
    let html = response.text().await.unwrap();
    texts(&html, "#new-key")
        .pop()
        .expect("the new key is shown")
}

async fn status(stack: &TestStack, method: Method, key: &str) -> (u16, String) {
    let mut request = stack.api(method.clone(), "/api/tasks", Some(key));
    if method == Method::POST {
        request = request.json(&serde_json::json!({ "title": "from a script" }));
    }
    let response = request.send().await.unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), challenge)
}

#[actix_web::test]
async fn a_key_is_shown_once_and_works_within_its_scopes() {
    let stack = spawn_stack().await;
    let alice = stack.auth.signed_in_user("alice").await;
    let key = create_key(&alice, "Backup script", true, false).await;
    assert!(key.starts_with("tk_") && key.len() == 46, "{key}");

    // Stored as a hash; the list shows a prefix, never the key again.
    let (prefix, hash): (String, String) = stack
        .auth
        .query(|c| {
            api_keys::table
                .select((api_keys::prefix, api_keys::key_hash))
                .first(c)
        })
        .await;
    assert_eq!(hash, shared::token::HashedToken::of(&key).as_str());
    assert!(key.starts_with(&prefix));
    let page = alice.get("/account/api-keys").await.text().await.unwrap();
    assert!(!page.contains(&key));
    assert!(page.contains(&prefix));
    assert!(texts(&page, "table tbody tr")[0].contains("Backup script"));

    assert_eq!(status(&stack, Method::GET, &key).await.0, 200);
    let (code, challenge) = status(&stack, Method::POST, &key).await;
    assert_eq!(code, 403);
    assert!(challenge.contains("scope=\"tasks:write\""), "{challenge}");
    let used: Option<chrono::NaiveDateTime> = stack
        .auth
        .query(|c| api_keys::table.select(api_keys::last_used_at).first(c))
        .await;
    assert!(used.is_some(), "last use recorded");

    let writer = create_key(&alice, "Importer", true, true).await;
    assert_eq!(status(&stack, Method::POST, &writer).await.0, 201);
}

#[actix_web::test]
async fn a_revoked_or_expired_key_is_refused_at_once() {
    let stack = spawn_stack().await;
    let alice = stack.auth.signed_in_user("alice").await;
    let key = create_key(&alice, "Temp", true, false).await;
    assert_eq!(status(&stack, Method::GET, &key).await.0, 200);

    let page = alice.get("/account/api-keys").await.text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token").unwrap();
    let id: String = stack
        .auth
        .query(|c| api_keys::table.select(api_keys::id).first(c))
        .await;
    let response = alice
        .post_form(
            &format!("/account/api-keys/{id}/revoke"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/account/api-keys?revoked=1");
    let (code, challenge) = status(&stack, Method::GET, &key).await;
    assert_eq!(code, 401);
    assert!(challenge.contains("invalid_token"));

    let other = create_key(&alice, "Short-lived", true, false).await;
    let past = shared::models::now() - chrono::Duration::seconds(1);
    stack
        .auth
        .query(move |c| {
            diesel::update(api_keys::table.filter(api_keys::revoked_at.is_null()))
                .set(api_keys::expires_at.eq(past))
                .execute(c)
        })
        .await;
    assert_eq!(status(&stack, Method::GET, &other).await.0, 401);
    let listed = texts(
        &alice.get("/account/api-keys").await.text().await.unwrap(),
        "table tbody tr",
    )
    .join("\n");
    assert!(
        listed.contains("revoked") && listed.contains("expired"),
        "{listed}"
    );

    for junk in ["tk_", "tk_short", &format!("tk_{}", "A".repeat(43))] {
        assert_eq!(status(&stack, Method::GET, junk).await.0, 401, "{junk}");
    }
}

#[actix_web::test]
async fn creating_a_key_needs_a_permission_a_name_and_the_csrf_token() {
    let stack = spawn_stack().await;
    let alice = stack.auth.signed_in_user("alice").await;
    let csrf = alice.account_csrf().await;
    let none = alice
        .post_form(
            "/account/api-keys",
            &[
                ("csrf_token", &csrf),
                ("name", "x"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(none.status(), 400);
    assert!(texts(&none.text().await.unwrap(), ".alert")[0].contains("permission"));
    let unnamed = alice
        .post_form(
            "/account/api-keys",
            &[
                ("csrf_token", &csrf),
                ("name", " "),
                ("read", "1"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(unnamed.status(), 400);
    let too_long = alice
        .post_form(
            "/account/api-keys",
            &[
                ("csrf_token", &csrf),
                ("name", "x"),
                ("read", "1"),
                ("expires_in_days", "366"),
            ],
        )
        .await;
    assert_eq!(too_long.status(), 400);
    let forged = alice
        .post_form(
            "/account/api-keys",
            &[
                ("csrf_token", "forged"),
                ("name", "x"),
                ("read", "1"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
    let count: i64 = stack
        .auth
        .query(|c| api_keys::table.count().get_result(c))
        .await;
    assert_eq!(count, 0);
}

#[actix_web::test]
async fn revoking_a_key_without_the_sessions_csrf_token_changes_nothing() {
    let stack = spawn_stack().await;
    let alice = stack.auth.signed_in_user("alice").await;
    let key = create_key(&alice, "Backup script", true, false).await;
    let id: String = stack
        .auth
        .query(|c| api_keys::table.select(api_keys::id).first(c))
        .await;
    let revoke = format!("/account/api-keys/{id}/revoke");
    // What a forging site could put in the form: a made-up token, the token of the
    // attacker's own signed-in session, or none at all.
    let attacker = stack.auth.visitor();
    stack.auth.create_user("mallory").await;
    assert_eq!(attacker.login("mallory", PASSWORD).await.status(), 303);
    let attackers_token = attacker.account_csrf().await;
    let forged = "forged-forged-forged-forged-forged-forged-f";
    for (what, form) in [
        ("a made-up token", vec![("csrf_token", forged)]),
        (
            "another session's token",
            vec![("csrf_token", attackers_token.as_str())],
        ),
        ("no token", vec![]),
    ] {
        let response = alice.post_form(&revoke, &form).await;
        assert!(
            response.status().is_client_error(),
            "{what}: {}",
            response.status()
        );
        let revoked_at: Option<chrono::NaiveDateTime> = stack
            .auth
            .query(|c| api_keys::table.select(api_keys::revoked_at).first(c))
            .await;
        assert!(revoked_at.is_none(), "{what}: the key was revoked");
        assert_eq!(
            status(&stack, Method::GET, &key).await.0,
            200,
            "{what}: the key still works"
        );
    }

    // The page's own token does revoke it.
    let csrf = alice.account_csrf().await;
    let response = alice.post_form(&revoke, &[("csrf_token", &csrf)]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(status(&stack, Method::GET, &key).await.0, 401);
}
