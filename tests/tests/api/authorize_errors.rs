//! `/authorize` refusals: an untrusted client or redirect URI gets our error page and never
//! a redirect (no open redirector); every later problem goes back to the client with the
//! RFC 6749 §4.1.2.1 code, `state` and `iss`.

use crate::support::browser::{TestUser, location};
use crate::support::oauth_client::{
    ClientOptions, REDIRECT_URI, authorize_path, pkce, query_param,
};
use crate::support::servers::spawn_app;

async fn assert_error_page(visitor: &TestUser, path: &str, expected: &str) {
    let response = visitor.get(path).await;
    assert_eq!(response.status(), 400, "{path}");
    assert!(
        response.headers().get("location").is_none(),
        "no redirect for {path}"
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains(expected),
        "{path}: page should say {expected:?}"
    );
}

fn assert_client_error(response: &reqwest::Response, error: &str, state: Option<&str>) {
    assert_eq!(response.status(), 302);
    let to = location(response);
    assert!(to.starts_with(REDIRECT_URI), "{to}");
    assert_eq!(query_param(&to, "error").as_deref(), Some(error), "{to}");
    assert_eq!(query_param(&to, "state").as_deref(), state, "{to}");
    assert_eq!(
        query_param(&to, "iss").as_deref(),
        Some("http://127.0.0.1:8080"),
        "{to}"
    );
    assert!(query_param(&to, "code").is_none());
}

#[actix_web::test]
async fn an_unknown_or_disabled_client_gets_an_error_page() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let p = pkce();
    let base = [
        ("response_type", "code"),
        ("redirect_uri", REDIRECT_URI),
        ("code_challenge", &p.challenge),
        ("code_challenge_method", "S256"),
    ];
    assert_error_page(&visitor, &authorize_path(&base), "client_id is missing").await;
    let mut unknown = base.to_vec();
    unknown.push(("client_id", "client_nope"));
    assert_error_page(&visitor, &authorize_path(&unknown), "not registered").await;

    let client = app.register_client(ClientOptions::default()).await;
    auth_server::oauth::clients::set_enabled(&app.db, client.client_id.clone(), false)
        .await
        .unwrap();
    let mut disabled = base.to_vec();
    disabled.push(("client_id", &client.client_id));
    assert_error_page(&visitor, &authorize_path(&disabled), "has been disabled").await;
}

#[actix_web::test]
async fn a_redirect_uri_that_is_not_registered_exactly_is_never_redirected_to() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let client = app.register_client(ClientOptions::default()).await;
    let p = pkce();
    for attempt in [
        "https://app.example.com/callback/extra",
        "https://app.example.com/call",
        "https://app.example.com/callbackx",
        "https://app.example.com:8443/callback",
        "https://app.example.com/callback#fragment",
        "https://evil@app.example.com/callback",
        "https://app.example.com.evil.example/callback",
        "http://app.example.com/callback",
        "https://evil.example/callback",
    ] {
        let path = authorize_path(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", attempt),
            ("code_challenge", &p.challenge),
            ("code_challenge_method", "S256"),
        ]);
        assert_error_page(&visitor, &path, "not registered for this app").await;
    }
}

#[actix_web::test]
async fn redirect_uri_may_be_omitted_only_when_one_is_registered() {
    let app = spawn_app().await;
    let client = app
        .register_client(ClientOptions {
            redirect_uris: vec![REDIRECT_URI.into(), "https://app.example.com/other".into()],
            ..ClientOptions::default()
        })
        .await;
    let visitor = app.visitor();
    let p = pkce();
    let path = authorize_path(&[
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("code_challenge", &p.challenge),
        ("code_challenge_method", "S256"),
    ]);
    assert_error_page(&visitor, &path, "must name its redirect_uri").await;
}

#[actix_web::test]
async fn repeated_or_overlong_client_parameters_get_an_error_page() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let visitor = app.visitor();
    let path = format!(
        "/authorize?client_id={0}&client_id={0}&response_type=code",
        client.client_id
    );
    assert_error_page(&visitor, &path, "more than one client_id").await;
    let path = format!(
        "/authorize?client_id={}&redirect_uri=a&redirect_uri=b",
        client.client_id
    );
    assert_error_page(&visitor, &path, "more than one redirect_uri").await;
    let path = format!("/authorize?client_id={}", "x".repeat(10_000));
    assert_error_page(&visitor, &path, "too long").await;
    assert_error_page(&visitor, "/authorize?client_id=%ZZ", "not registered").await;
    assert_error_page(&visitor, "/authorize?client_id=%FF%FE", "not registered").await;
}

#[actix_web::test]
async fn problems_after_the_redirect_uri_is_trusted_go_back_to_the_client() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let alice = app.signed_in_user("alice").await;
    let p = pkce();
    let id = client.client_id.as_str();
    let with = |extra: &[(&'static str, &str)], drop: &[&str]| {
        let mut params: Vec<(&str, String)> = vec![
            ("response_type", "code".into()),
            ("client_id", id.into()),
            ("redirect_uri", REDIRECT_URI.into()),
            ("scope", "tasks:read".into()),
            ("state", "s1".into()),
            ("code_challenge", p.challenge.clone()),
            ("code_challenge_method", "S256".into()),
        ];
        params.retain(|(k, _)| !drop.contains(k) && !extra.iter().any(|(e, _)| e == k));
        params.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        authorize_path(&borrowed)
    };
    let cases: Vec<(String, &str)> = vec![
        (with(&[], &["response_type"]), "invalid_request"),
        (
            with(&[("response_type", "token")], &[]),
            "unsupported_response_type",
        ),
        (
            with(&[("response_type", "code id_token")], &[]),
            "unsupported_response_type",
        ),
        (with(&[("scope", "admin")], &[]), "invalid_scope"),
        (
            with(&[("scope", "tasks:read  tasks:write")], &[]),
            "invalid_scope",
        ),
        (
            with(&[], &["code_challenge", "code_challenge_method"]),
            "invalid_request",
        ),
        (
            with(&[("code_challenge_method", "plain")], &[]),
            "invalid_request",
        ),
        (with(&[], &["code_challenge_method"]), "invalid_request"),
        (
            with(&[("code_challenge", "too-short")], &[]),
            "invalid_request",
        ),
        (
            with(&[("response_mode", "fragment")], &[]),
            "invalid_request",
        ),
        (
            format!("{}&scope=tasks:write", with(&[], &[])),
            "invalid_request",
        ),
        (
            with(&[("code_challenge", &"a".repeat(10_000))], &[]),
            "invalid_request",
        ),
        (
            format!("{}&nonce=%FF%FE", with(&[], &[])),
            "invalid_request",
        ),
    ];
    for (path, error) in cases {
        let response = alice.get(&path).await;
        assert_client_error(&response, error, Some("s1"));
    }
    // An over-long state is refused, and not echoed back.
    let response = alice
        .get(&with(&[("state", &"s".repeat(10_000))], &[]))
        .await;
    assert_client_error(&response, "invalid_request", None);
}

#[actix_web::test]
async fn a_scope_beyond_the_clients_is_refused() {
    let app = spawn_app().await;
    let client = app
        .register_client(ClientOptions {
            scope: "tasks:read".into(),
            ..ClientOptions::default()
        })
        .await;
    let alice = app.signed_in_user("alice").await;
    let p = pkce();
    let path = authorize_path(&[
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("scope", "tasks:read tasks:write"),
        ("state", "s"),
        ("code_challenge", &p.challenge),
        ("code_challenge_method", "S256"),
    ]);
    assert_client_error(&alice.get(&path).await, "invalid_scope", Some("s"));
}

#[actix_web::test]
async fn a_confidential_client_without_pkce_may_skip_it_only_when_registered_so() {
    let app = spawn_app().await;
    let strict = app.register_client(ClientOptions::default()).await;
    let relaxed = app
        .register_client(ClientOptions {
            require_pkce: false,
            first_party: true,
            ..ClientOptions::default()
        })
        .await;
    let alice = app.signed_in_user("alice").await;
    let no_pkce =
        |id: &str| authorize_path(&[("response_type", "code"), ("client_id", id), ("state", "s")]);
    assert_client_error(
        &alice.get(&no_pkce(&strict.client_id)).await,
        "invalid_request",
        Some("s"),
    );
    let response = alice.get(&no_pkce(&relaxed.client_id)).await;
    assert!(
        location(&response).contains("code="),
        "{}",
        location(&response)
    );
}

#[actix_web::test]
async fn the_consent_decision_needs_the_sessions_csrf_token() {
    let app = spawn_app().await;
    let client = app.register_client(ClientOptions::default()).await;
    let alice = app.signed_in_user("alice").await;
    let path = app.authorize_request(&client, &pkce(), "s");
    let query = path.trim_start_matches("/authorize?").to_owned();
    let response = alice
        .post_form(
            "/authorize",
            &[
                ("csrf_token", "forged"),
                ("request", &query),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(response.headers().get("location").is_none());
}
