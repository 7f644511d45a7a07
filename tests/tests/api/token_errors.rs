//! `POST /token` refusals (RFC 6749 §5.2, RFC 7636, RFC 9700): the exact error codes,
//! `invalid_client` as 401 with `WWW-Authenticate`, codes that work once, and replay
//! revoking what the first exchange issued.

use diesel::prelude::*;
use shared::models::now;
use shared::schema::{access_tokens, authorization_codes, grants, refresh_tokens};

use crate::support::browser::TestUser;
use crate::support::oauth_client::{ClientOptions, TestClient, pkce};
use crate::support::servers::{TestApp, spawn_app};

async fn assert_oauth_error(response: reqwest::Response, status: u16, error: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let www = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string());
    if error == "invalid_client" {
        assert!(
            www.is_some_and(|w| w.starts_with("Basic")),
            "401 names the scheme"
        );
    }
}

async fn setup(options: ClientOptions) -> (TestApp, TestUser, TestClient) {
    let app = spawn_app().await;
    let client = app.register_client(options).await;
    let alice = app.signed_in_user("alice").await;
    (app, alice, client)
}

#[actix_web::test]
async fn pkce_is_checked_exactly() {
    let (app, alice, client) = setup(ClientOptions::default()).await;
    let p = pkce();
    let code = alice.obtain_code(&client, &p).await;
    assert_oauth_error(
        app.exchange_code(&client, &code, None).await,
        400,
        "invalid_grant",
    )
    .await;
    let code = alice.obtain_code(&client, &p).await;
    let wrong = pkce().verifier;
    assert_oauth_error(
        app.exchange_code(&client, &code, Some(&wrong)).await,
        400,
        "invalid_grant",
    )
    .await;
    // A failed verifier burns the code: the right one no longer works either.
    assert_oauth_error(
        app.exchange_code(&client, &code, Some(&p.verifier)).await,
        400,
        "invalid_grant",
    )
    .await;
    let code = alice.obtain_code(&client, &p).await;
    assert_oauth_error(
        app.exchange_code(&client, &code, Some("short")).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[actix_web::test]
async fn a_verifier_without_a_challenge_is_refused() {
    let (app, alice, client) = setup(ClientOptions {
        require_pkce: false,
        first_party: true,
        ..ClientOptions::default()
    })
    .await;
    let path = crate::support::oauth_client::authorize_path(&[
        ("response_type", "code"),
        ("client_id", &client.client_id),
    ]);
    let code_without_challenge = || async {
        let to = crate::support::browser::location(&alice.get(&path).await);
        crate::support::oauth_client::query_param(&to, "code").unwrap()
    };
    let form = [
        ("grant_type", "authorization_code".to_owned()),
        ("code", code_without_challenge().await),
        ("code_verifier", pkce().verifier),
    ];
    assert_oauth_error(
        app.token_request(&client, &form).await,
        400,
        "invalid_grant",
    )
    .await;
    // The same kind of code without a verifier is exchanged: the refusal above was about
    // the verifier alone.
    let form = [
        ("grant_type", "authorization_code".to_owned()),
        ("code", code_without_challenge().await),
    ];
    assert_eq!(app.token_request(&client, &form).await.status(), 200);
}

#[actix_web::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_issued() {
    let (app, alice, client) = setup(ClientOptions::default()).await;
    let p = pkce();
    let code = alice.obtain_code(&client, &p).await;
    let first = app.exchange_code(&client, &code, Some(&p.verifier)).await;
    assert_eq!(first.status(), 200);

    assert_oauth_error(
        app.exchange_code(&client, &code, Some(&p.verifier)).await,
        400,
        "invalid_grant",
    )
    .await;
    let revoked_access: Vec<Option<chrono::NaiveDateTime>> = app
        .query(|c| {
            access_tokens::table
                .select(access_tokens::revoked_at)
                .load(c)
        })
        .await;
    assert_eq!(revoked_access.len(), 1);
    assert!(
        revoked_access[0].is_some(),
        "the first exchange's access token is revoked"
    );
    let revoked_refresh: Vec<Option<chrono::NaiveDateTime>> = app
        .query(|c| {
            refresh_tokens::table
                .select(refresh_tokens::revoked_at)
                .load(c)
        })
        .await;
    assert!(revoked_refresh[0].is_some(), "and its refresh token");
    let grant_revoked: Option<chrono::NaiveDateTime> = app
        .query(|c| grants::table.select(grants::revoked_at).first(c))
        .await;
    assert!(grant_revoked.is_some());
}

#[actix_web::test]
async fn concurrent_exchanges_of_one_code_yield_one_success() {
    let (app, alice, client) = setup(ClientOptions::default()).await;
    let p = pkce();
    let code = alice.obtain_code(&client, &p).await;
    let attempts = (0..8).map(|_| app.exchange_code(&client, &code, Some(&p.verifier)));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
}

#[actix_web::test]
async fn an_expired_code_is_refused() {
    let (app, alice, client) = setup(ClientOptions::default()).await;
    let p = pkce();
    let code = alice.obtain_code(&client, &p).await;
    let lifetime: (chrono::NaiveDateTime, chrono::NaiveDateTime) = app
        .query(|c| {
            authorization_codes::table
                .select((
                    authorization_codes::created_at,
                    authorization_codes::expires_at,
                ))
                .first(c)
        })
        .await;
    assert_eq!(
        (lifetime.1 - lifetime.0).num_seconds(),
        60,
        "codes live 60 s by default"
    );
    let past = now() - chrono::Duration::seconds(1);
    app.query(move |c| {
        diesel::update(authorization_codes::table)
            .set(authorization_codes::expires_at.eq(past))
            .execute(c)
    })
    .await;
    assert_oauth_error(
        app.exchange_code(&client, &code, Some(&p.verifier)).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[actix_web::test]
async fn a_code_works_only_for_its_client_and_redirect_uri() {
    let (app, alice, client) = setup(ClientOptions::default()).await;
    let other = app.register_client(ClientOptions::default()).await;
    let p = pkce();
    let code = alice.obtain_code(&client, &p).await;
    assert_oauth_error(
        app.exchange_code(&other, &code, Some(&p.verifier)).await,
        400,
        "invalid_grant",
    )
    .await;

    let mut wrong_uri = client.clone();
    wrong_uri.redirect_uri = "https://app.example.com/other".into();
    assert_oauth_error(
        app.exchange_code(&wrong_uri, &code, Some(&p.verifier))
            .await,
        400,
        "invalid_grant",
    )
    .await;

    let form = [
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.clone()),
        ("code_verifier", p.verifier.clone()),
    ];
    assert_oauth_error(
        app.token_request(&client, &form).await,
        400,
        "invalid_grant",
    )
    .await;

    // None of that spent the code.
    assert_eq!(
        app.exchange_code(&client, &code, Some(&p.verifier))
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn client_authentication_failures_are_401_invalid_client() {
    let (app, alice, client) = setup(ClientOptions::default()).await;
    let p = pkce();
    let code = alice.obtain_code(&client, &p).await;
    let mut wrong_secret = client.clone();
    wrong_secret.secret = Some("cs_wrong".into());
    assert_oauth_error(
        app.exchange_code(&wrong_secret, &code, Some(&p.verifier))
            .await,
        401,
        "invalid_client",
    )
    .await;

    let unknown = TestClient {
        client_id: "client_unknown".into(),
        secret: Some("x".into()),
        redirect_uri: client.redirect_uri.clone(),
    };
    assert_oauth_error(
        app.exchange_code(&unknown, &code, Some(&p.verifier)).await,
        401,
        "invalid_client",
    )
    .await;

    // A confidential client that sends no secret.
    let mut no_secret = client.clone();
    no_secret.secret = None;
    assert_oauth_error(
        app.exchange_code(&no_secret, &code, Some(&p.verifier))
            .await,
        401,
        "invalid_client",
    )
    .await;

    let malformed = reqwest::Client::new()
        .post(app.url("/token"))
        .header("Authorization", "Basic !!!not-base64")
        .form(&[("grant_type", "authorization_code"), ("code", &code)])
        .send()
        .await
        .unwrap();
    assert_oauth_error(malformed, 401, "invalid_client").await;

    auth_server::oauth::clients::set_enabled(&app.db, client.client_id.clone(), false)
        .await
        .unwrap();
    assert_oauth_error(
        app.exchange_code(&client, &code, Some(&p.verifier)).await,
        401,
        "invalid_client",
    )
    .await;
}

#[actix_web::test]
async fn a_rotated_secret_replaces_the_old_one() {
    let (app, alice, client) = setup(ClientOptions::default()).await;
    let new_secret = auth_server::oauth::clients::rotate_secret(&app.db, client.client_id.clone())
        .await
        .unwrap()
        .unwrap();
    let p = pkce();
    let code = alice.obtain_code(&client, &p).await;
    assert_oauth_error(
        app.exchange_code(&client, &code, Some(&p.verifier)).await,
        401,
        "invalid_client",
    )
    .await;
    let mut rotated = client.clone();
    rotated.secret = Some(new_secret.expose().to_owned());
    assert_eq!(
        app.exchange_code(&rotated, &code, Some(&p.verifier))
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn malformed_token_requests_get_the_rfc_error() {
    let (app, _alice, client) = setup(ClientOptions::default()).await;
    fn form<'a>(pairs: &[(&'a str, &str)]) -> Vec<(&'a str, String)> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    }
    assert_oauth_error(
        app.token_request(&client, &form(&[("code", "x")])).await,
        400,
        "invalid_request",
    )
    .await;
    assert_oauth_error(
        app.token_request(
            &client,
            &form(&[
                ("grant_type", "password"),
                ("username", "a"),
                ("password", "b"),
            ]),
        )
        .await,
        400,
        "unsupported_grant_type",
    )
    .await;
    assert_oauth_error(
        app.token_request(&client, &form(&[("grant_type", "client_credentials")]))
            .await,
        400,
        "unauthorized_client",
    )
    .await;
    assert_oauth_error(
        app.token_request(&client, &form(&[("grant_type", "implicit")]))
            .await,
        400,
        "unsupported_grant_type",
    )
    .await;
    assert_oauth_error(
        app.token_request(&client, &form(&[("grant_type", "authorization_code")]))
            .await,
        400,
        "invalid_request",
    )
    .await;
    assert_oauth_error(
        app.token_request(
            &client,
            &form(&[
                ("grant_type", "authorization_code"),
                ("code", "a"),
                ("code", "b"),
            ]),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    assert_oauth_error(
        app.token_request(
            &client,
            &form(&[
                ("grant_type", "authorization_code"),
                ("code", &"a".repeat(10_000)),
            ]),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    assert_oauth_error(
        app.token_request(
            &client,
            &form(&[("grant_type", "authorization_code"), ("code", "ac_unknown")]),
        )
        .await,
        400,
        "invalid_grant",
    )
    .await;

    // Both Basic and a secret in the body.
    let mut with_body_secret = form(&[("grant_type", "authorization_code"), ("code", "x")]);
    with_body_secret.push(("client_secret", client.secret.clone().unwrap()));
    assert_oauth_error(
        app.token_request(&client, &with_body_secret).await,
        400,
        "invalid_request",
    )
    .await;

    let json = reqwest::Client::new()
        .post(app.url("/token"))
        .json(&serde_json::json!({ "grant_type": "authorization_code" }))
        .send()
        .await
        .unwrap();
    assert_oauth_error(json, 400, "invalid_request").await;
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", client.client_id, client.secret.clone().unwrap()),
    );
    let bad_utf8 = reqwest::Client::new()
        .post(app.url("/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", format!("Basic {basic}"))
        .body("grant_type=authorization_code&code=%FF%FE")
        .send()
        .await
        .unwrap();
    assert_oauth_error(bad_utf8, 400, "invalid_request").await;
    let get = reqwest::Client::new()
        .get(app.url("/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
}
