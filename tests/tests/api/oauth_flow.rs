//! The authorization-code flow with PKCE, end to end, as a browser and an app see it.

use diesel::prelude::*;
use shared::schema::{access_tokens, authorization_codes, consents, refresh_tokens};

use crate::support::browser::{PASSWORD, hidden_field, location, texts};
use crate::support::oauth_client::{ClientOptions, REDIRECT_URI, pkce, query_param};
use crate::support::servers::spawn_app;

#[actix_web::test]
async fn a_confidential_client_gets_tokens_after_consent() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let alice = app.signed_in_user("alice").await;
    let pkce = pkce();

    // The consent page: who asks, for what, as whom, and the two buttons.
    let consent = alice
        .get(&app.authorize_request(&client, &pkce, "state-123"))
        .await;
    assert_eq!(consent.status(), 200);
    let csp = consent.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("form-action 'self' https://app.example.com"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(consent.headers()["x-frame-options"], "DENY");
    let html = consent.text().await.unwrap();
    assert!(texts(&html, "h1")[0].contains("Example App"));
    let scopes = texts(&html, "ul.scopes li").join("\n");
    assert!(
        scopes.contains("See your tasks")
            && scopes.contains("Create, change and delete your tasks"),
        "{scopes}"
    );
    assert!(html.contains("Signed in as <strong>alice</strong>"));
    assert!(html.contains("Switch account"));
    assert_eq!(texts(&html, "form.decision button"), ["Deny", "Allow"]);

    let csrf = hidden_field(&html, "csrf_token").unwrap();
    let request = hidden_field(&html, "request").unwrap();
    let allowed = alice
        .post_form(
            "/authorize",
            &[
                ("csrf_token", &csrf),
                ("request", &request),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(allowed.status(), 303);
    let to = location(&allowed);
    assert!(to.starts_with(&format!("{REDIRECT_URI}?code=ac_")), "{to}");
    assert_eq!(query_param(&to, "state").as_deref(), Some("state-123"));
    assert_eq!(
        query_param(&to, "iss").as_deref(),
        Some("http://127.0.0.1:8080")
    );
    let code = query_param(&to, "code").unwrap();
    // 256 random bits; the database holds only the hash.
    assert_eq!(code.len(), "ac_".len() + 43);
    let stored: Vec<String> = app
        .query(|c| {
            authorization_codes::table
                .select(authorization_codes::code_hash)
                .load(c)
        })
        .await;
    assert_eq!(
        stored,
        [shared::token::HashedToken::of(&code).as_str().to_owned()]
    );

    let response = app
        .exchange_code(&client, &code, Some(&pkce.verifier))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "tasks:read tasks:write");
    assert!(body["refresh_token"].as_str().unwrap().starts_with("rt_"));

    let claims = app
        .verify_access_token(body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(claims["client_id"], client.client_id.as_str());
    assert_eq!(claims["scope"], "tasks:read tasks:write");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    let user_id: String = app
        .query(|c| {
            shared::schema::users::table
                .select(shared::schema::users::id)
                .first(c)
        })
        .await;
    assert_eq!(claims["sub"], user_id.as_str());

    // The access token is recorded by jti (so it can be revoked), the refresh token hashed.
    let jti = claims["jti"].as_str().unwrap().to_owned();
    let recorded: i64 = app
        .query(move |c| {
            access_tokens::table
                .filter(access_tokens::jti.eq(jti))
                .count()
                .get_result(c)
        })
        .await;
    assert_eq!(recorded, 1);
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let refresh_hashes: Vec<String> = app
        .query(|c| {
            refresh_tokens::table
                .select(refresh_tokens::token_hash)
                .load(c)
        })
        .await;
    assert_eq!(
        refresh_hashes,
        [shared::token::HashedToken::of(&refresh).as_str().to_owned()]
    );
}

#[actix_web::test]
async fn a_public_client_authenticates_with_pkce_alone() {
    let app = spawn_app().await;
    let client = app
        .register_client(ClientOptions {
            public: true,
            redirect_uris: vec!["http://127.0.0.1/callback".into()],
            ..ClientOptions::default()
        })
        .await;
    assert!(client.secret.is_none());
    let alice = app.signed_in_user("alice").await;
    let pkce = pkce();
    // A native app listens on a port chosen at run time (RFC 8252 §7.3).
    let mut public_client = client.clone();
    public_client.redirect_uri = "http://127.0.0.1:49152/callback".into();
    let code = alice.obtain_code(&public_client, &pkce).await;
    let response = app
        .exchange_code(&public_client, &code, Some(&pkce.verifier))
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    app.verify_access_token(body["access_token"].as_str().unwrap())
        .await;
}

#[actix_web::test]
async fn client_secret_post_is_accepted() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let alice = app.signed_in_user("alice").await;
    let pkce = pkce();
    let code = alice.obtain_code(&client, &pkce).await;
    let response = reqwest::Client::new()
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", &pkce.verifier),
            ("client_id", &client.client_id),
            ("client_secret", client.secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[actix_web::test]
async fn signing_in_from_the_authorization_request_comes_back_to_it() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    app.create_user("alice").await;
    let alice = app.visitor();
    let path = app.authorize_request(&client, &pkce(), "s");

    let response = alice.get(&path).await;
    assert_eq!(response.status(), 303);
    let login = location(&response);
    assert!(
        login.starts_with("/login?return_to=%2Fauthorize%3F"),
        "{login}"
    );
    // The sign-in page may lead to the client's redirect URI, so its CSP allows that origin.
    let page = alice.get(&login).await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("form-action 'self' https://app.example.com"),
        "{csp}"
    );

    let signed_in = alice.login_to("alice", PASSWORD, &path).await;
    assert_eq!(location(&signed_in), path);
    let consent = alice.get(&path).await;
    assert_eq!(consent.status(), 200);
}

#[actix_web::test]
async fn deny_sends_access_denied_back_with_state_and_iss() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let alice = app.signed_in_user("alice").await;
    let response = alice
        .authorize(&app.authorize_request(&client, &pkce(), "st"), "deny")
        .await;
    assert_eq!(response.status(), 303);
    let to = location(&response);
    assert!(to.starts_with(REDIRECT_URI), "{to}");
    assert_eq!(query_param(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&to, "state").as_deref(), Some("st"));
    assert_eq!(
        query_param(&to, "iss").as_deref(),
        Some("http://127.0.0.1:8080")
    );
    assert!(query_param(&to, "code").is_none());
    let remembered: i64 = app.query(|c| consents::table.count().get_result(c)).await;
    assert_eq!(remembered, 0, "a denial is not remembered as consent");
}

#[actix_web::test]
async fn consent_is_remembered_and_asked_again_only_for_new_scopes() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let alice = app.signed_in_user("alice").await;
    let read_only = |pkce: &crate::support::oauth_client::Pkce| {
        crate::support::oauth_client::authorize_path(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("scope", "tasks:read"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ])
    };
    let first = alice.authorize(&read_only(&pkce()), "allow").await;
    assert!(location(&first).contains("code="));

    // Same scope again: no question, straight back with a code.
    let again = alice.get(&read_only(&pkce())).await;
    assert_eq!(again.status(), 302);
    assert!(location(&again).starts_with(&format!("{REDIRECT_URI}?code=")));

    // A new scope: asked again, the old one marked as already allowed.
    let wider = alice
        .get(&app.authorize_request(&client, &pkce(), "s"))
        .await;
    assert_eq!(wider.status(), 200);
    let lines = texts(&wider.text().await.unwrap(), "ul.scopes li");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("tasks:read") && l.contains("already allowed")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("tasks:write") && !l.contains("already allowed")),
        "{lines:?}"
    );
}

#[actix_web::test]
async fn first_party_apps_skip_consent() {
    let app = spawn_app().await;
    let client = app
        .register_client(ClientOptions {
            first_party: true,
            public: true,
            ..ClientOptions::default()
        })
        .await;
    let alice = app.signed_in_user("alice").await;
    let response = alice
        .get(&app.authorize_request(&client, &pkce(), "s"))
        .await;
    assert_eq!(response.status(), 302);
    assert!(location(&response).starts_with(&format!("{REDIRECT_URI}?code=")));
}

#[actix_web::test]
async fn html_in_a_client_name_shows_as_text() {
    let app = spawn_app().await;
    let client = app
        .register_client(ClientOptions {
            name: "<script>alert(1)</script>".into(),
            ..ClientOptions::default()
        })
        .await;
    let alice = app.signed_in_user("alice").await;
    let html = alice
        .get(&app.authorize_request(&client, &pkce(), "<b>state</b>"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(!html.contains("<b>state</b>"));
    assert!(
        texts(&html, "h1")[0].contains("<script>alert(1)</script>"),
        "shown as text"
    );
}
