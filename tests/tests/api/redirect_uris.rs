//! Redirect URIs as a browser reads them (SECURITY.md 1, 2 and 9): every variant of a
//! registered URI that a WHATWG parser reads as another host, another port or with
//! user-info gets our error page and no code; the loopback exception lets only the port
//! differ; and no client-influenced string reaches a page's `Content-Security-Policy`
//! as anything but one checked source.

use diesel::prelude::*;
use shared::schema::{authorization_codes, clients};

use crate::support::browser::{PASSWORD, TestUser, hidden_field, location};
use crate::support::oauth_client::{ClientOptions, TestClient, authorize_path, pkce, query_param};
use crate::support::servers::{TestApp, spawn_app};

/// A native app: public, first-party (so before this was fixed, nobody had to click).
fn native_app(redirect_uri: &str) -> ClientOptions {
    ClientOptions {
        name: "Native App".into(),
        redirect_uris: vec![redirect_uri.into()],
        public: true,
        first_party: true,
        ..ClientOptions::default()
    }
}

fn request_to(client: &TestClient, redirect_uri: &str, challenge: &str) -> String {
    authorize_path(&[
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("redirect_uri", redirect_uri),
        ("scope", "tasks:read"),
        ("state", "xyz"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ])
}

async fn codes_stored(app: &TestApp) -> i64 {
    app.query(|c| authorization_codes::table.count().get_result(c))
        .await
}

/// Asserts the answer is our error page: 400, no `Location`, no code stored.
async fn assert_refused_here(app: &TestApp, user: &TestUser, path: &str, what: &str) {
    let response = user.get(path).await;
    assert_eq!(response.status(), 400, "{what}: {}", location(&response));
    assert!(response.headers().get("location").is_none(), "{what}");
    let html = response.text().await.unwrap();
    assert!(html.contains("not registered for this app"), "{what}");
    assert_eq!(codes_stored(app).await, 0, "{what}: no code was issued");
}

#[actix_web::test]
async fn a_loopback_uri_read_as_another_host_or_port_gets_the_error_page() {
    let app = spawn_app().await;
    let v4 = app
        .register_client(native_app("http://127.0.0.1/callback"))
        .await;
    let v6 = app
        .register_client(native_app("http://[::1]/callback"))
        .await;
    let alice = app.signed_in_user("alice").await;
    let p = pkce();
    for (client, attack) in [
        (&v4, "http://127.0.0.1:@evil.example/callback"),
        (&v4, "http://127.0.0.1:1@evil.example/callback"),
        (&v4, "http://127.0.0.1:1@evil.example/cb"),
        (&v4, "http://127.0.0.1:99999/callback"),
        (&v4, "http://127.0.0.1:+80/callback"),
        (&v4, "http://127.0.0.1:0/callback"),
        (&v4, "http://127.0.0.1:080/callback"),
        (
            &v4,
            "http://127.0.0.1:1;frame-ancestors evil.example/callback",
        ),
        (&v4, "http://127.0.0.1:8000\\@evil.example/callback"),
        (&v4, "http://127.0.0.1%2F@evil.example/callback"),
        (&v4, "http://localhost:8000/callback"),
        (&v4, "http://127.0.0.1.evil.example/callback"),
        (&v4, "http://2130706433:8000/callback"),
        (&v4, "http://127.0.0.1:8000/callback#frag"),
        (&v4, "http://127.0.0.1:8000/callback/../callback"),
        (&v4, "http://127.0.0.1:8000/Callback"),
        (&v4, "http://[::1]:8000/callback"),
        (&v6, "http://[::1]:@evil.example/callback"),
        (&v6, "http://[::1]:1@evil.example/callback"),
        (&v6, "http://[::1]:99999/callback"),
        (&v6, "http://[0:0:0:0:0:0:0:1]:8000/callback"),
        (&v6, "http://127.0.0.1:8000/callback"),
    ] {
        assert_refused_here(
            &app,
            &alice,
            &request_to(client, attack, &p.challenge),
            attack,
        )
        .await;
    }
}

#[actix_web::test]
async fn an_https_uri_read_as_another_host_gets_the_error_page() {
    let app = spawn_app().await;
    let client = app
        .register_client(ClientOptions {
            first_party: true,
            ..ClientOptions::default()
        })
        .await;
    let alice = app.signed_in_user("alice").await;
    let p = pkce();
    for attack in [
        "https://app.example.com:@evil.example/callback",
        "https://app.example.com\\@evil.example/callback",
        "https://app.example.com%40evil.example/callback",
        "https://app.example.com/callback@evil.example",
        "https://app.example.com:443/callback",
        "https://APP.example.com/callback",
        "https://app.example.com/%63allback",
        "https://app.example.com/callback\t",
        "https://app.example.com/cal\nlback",
        " https://app.example.com/callback",
    ] {
        assert_refused_here(
            &app,
            &alice,
            &request_to(&client, attack, &p.challenge),
            attack,
        )
        .await;
    }
}

#[actix_web::test]
async fn a_loopback_uri_may_differ_in_its_port_alone() {
    let app = spawn_app().await;
    let client = app
        .register_client(native_app("http://127.0.0.1/callback"))
        .await;
    let alice = app.signed_in_user("alice").await;
    for requested in [
        "http://127.0.0.1:51234/callback",
        "http://127.0.0.1:1/callback",
        "http://127.0.0.1:65535/callback",
        "http://127.0.0.1/callback",
    ] {
        let p = pkce();
        // A native app: one click on our page, then back to exactly the URI it named.
        let to = location(
            &alice
                .authorize(&request_to(&client, requested, &p.challenge), "allow")
                .await,
        );
        assert!(to.starts_with(&format!("{requested}?code=")), "{to}");
        let parsed = url::Url::parse(&to).unwrap();
        assert_eq!(parsed.host_str(), Some("127.0.0.1"), "{to}");
        assert_eq!(parsed.username(), "");
        assert_eq!(query_param(&to, "state").as_deref(), Some("xyz"));
    }
}

#[actix_web::test]
async fn registration_refuses_what_a_browser_would_read_differently() {
    let app = spawn_app().await;
    for uri in [
        "http://127.0.0.1:@evil.example/cb",
        "https://app.example.com",
        "https://App.example.com/cb",
        "https://app.example.com:443/cb",
        "https://user@app.example.com/cb",
        "https://app.example.com/cb#x",
        "https://app.example.com;frame-ancestors/cb",
        "http://localhost/cb",
        "http://127.0.0.2/cb",
        "http://[::1]:0/cb",
        "javascript:alert(1)",
    ] {
        let result = auth_server::oauth::clients::register(
            &app.db,
            auth_server::oauth::clients::NewClient {
                name: "App".into(),
                redirect_uris: vec![uri.into()],
                scope: "tasks:read".into(),
                grant_types: vec!["authorization_code".into()],
                is_public: true,
                is_first_party: false,
                require_pkce: true,
                is_resource_server: false,
                id_token_signed_response_alg: None,
                post_logout_redirect_uris: Vec::new(),
                backchannel_logout_uri: None,
                require_mfa: false,
            },
        )
        .await;
        let error = result
            .err()
            .unwrap_or_else(|| panic!("{uri} was registered"))
            .to_string();
        assert!(error.starts_with("--redirect-uri"), "{uri}: {error}");
    }
    let canonical_hint = auth_server::oauth::clients::register(
        &app.db,
        auth_server::oauth::clients::NewClient {
            name: "App".into(),
            redirect_uris: vec!["https://app.example.com".into()],
            scope: "tasks:read".into(),
            grant_types: vec!["authorization_code".into()],
            is_public: true,
            is_first_party: false,
            require_pkce: true,
            is_resource_server: false,
            id_token_signed_response_alg: None,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            require_mfa: false,
        },
    )
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(
        canonical_hint.contains("`https://app.example.com/`"),
        "{canonical_hint}"
    );
}

/// The directives of a CSP header, in order, as (name, sources).
fn directives(csp: &str) -> Vec<(String, Vec<String>)> {
    csp.split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|directive| {
            let mut words = directive.split_ascii_whitespace().map(str::to_owned);
            let name = words.next().unwrap_or_default();
            (name, words.collect())
        })
        .collect()
}

/// The CSP is the base policy with at most `expected` added to `form-action`.
fn assert_csp(response: &reqwest::Response, expected: Option<&str>, what: &str) {
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    let found = directives(csp);
    let names: Vec<&str> = found.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "default-src",
            "style-src",
            "img-src",
            "form-action",
            "frame-ancestors",
            "base-uri"
        ],
        "{what}: {csp}"
    );
    let sources = |name: &str| {
        found
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    };
    assert_eq!(sources("frame-ancestors"), ["'none'"], "{what}: {csp}");
    let mut form_action = vec!["'self'".to_owned()];
    form_action.extend(expected.map(str::to_owned));
    assert_eq!(sources("form-action"), form_action, "{what}: {csp}");
}

#[actix_web::test]
async fn no_client_influenced_string_adds_a_csp_directive() {
    let app = spawn_app().await;
    let loopback = app
        .register_client(native_app("http://127.0.0.1/callback"))
        .await;
    // A row an older release (or a hand edit) may have stored: a host the registration
    // rules refuse today, with CSP syntax in it.
    let odd = app
        .register_client(native_app("https://odd.example/callback"))
        .await;
    let stored = "https://odd.example;frame-ancestors*/callback";
    let odd_id = odd.client_id.clone();
    app.query(move |c| {
        diesel::update(clients::table.find(odd_id))
            .set(clients::redirect_uris.eq(stored))
            .execute(c)
    })
    .await;
    let p = pkce();
    let alice = app.visitor();

    // Signed out: the sign-in page continues the request and allows its redirect origin.
    for (client, requested, expected) in [
        (
            &loopback,
            "http://127.0.0.1:8400/callback",
            Some("http://127.0.0.1:8400"),
        ),
        (
            &loopback,
            "http://127.0.0.1:1;frame-ancestors evil.example/callback",
            None,
        ),
        (
            &loopback,
            "http://127.0.0.1:1%3Bframe-ancestors%20evil/callback",
            None,
        ),
        (&odd, stored, None),
    ] {
        let return_to = request_to(client, requested, &p.challenge);
        let login = alice
            .get(&format!(
                "/login?return_to={}",
                auth_server::web::return_to::percent_encode(&return_to)
            ))
            .await;
        assert_eq!(login.status(), 200, "{requested}");
        assert_csp(&login, expected, requested);
    }

    app.create_user("alice").await;
    assert_eq!(alice.login("alice", PASSWORD).await.status(), 303);
    let consent = alice
        .get(&request_to(
            &loopback,
            "http://127.0.0.1:8400/callback",
            &p.challenge,
        ))
        .await;
    assert_eq!(consent.status(), 200);
    assert_csp(&consent, Some("http://127.0.0.1:8400"), "consent, loopback");
    let injected = alice
        .get(&request_to(
            &loopback,
            "http://127.0.0.1:1;frame-ancestors evil.example/callback",
            &p.challenge,
        ))
        .await;
    assert_eq!(injected.status(), 400);
    assert_csp(&injected, None, "error page");
    let odd_consent = alice.get(&request_to(&odd, stored, &p.challenge)).await;
    assert_eq!(odd_consent.status(), 200);
    assert_csp(&odd_consent, None, "consent, stored odd host");
    let html = odd_consent.text().await.unwrap();
    assert!(hidden_field(&html, "csrf_token").is_some());
}
