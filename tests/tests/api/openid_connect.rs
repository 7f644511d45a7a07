//! OpenID Connect (Core 1.0, Discovery 1.0) through a maintained relying-party library, the
//! `openidconnect` crate, unchanged: discovery, the code flow with PKCE and `nonce`, the ID
//! token validated against the JWKS, userinfo, refresh; then `prompt`, `max_age`,
//! `offline_access` and userinfo's errors over plain HTTP.
//!
//! The provider's issuer is `http://localhost` and the library's HTTP client resolves
//! `localhost` to the test server (`support::http_client::localhost_at`), so everything
//! the library checks against the issuer is checked as deployed.

use std::net::SocketAddr;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

use crate::support::browser::{TestUser, location};
use crate::support::http_client::localhost_at;
use crate::support::oauth_client::{ClientOptions, Pkce, TestClient, pkce, query_param};
use crate::support::servers::{TestApp, TestStack, spawn_app_with, spawn_stack_with};
use crate::support::tokens::unverified_claims;

const ISSUER: &str = "http://localhost";
const SCOPE: &str = "openid profile email offline_access tasks:read";

fn server_of(app: &TestApp) -> SocketAddr {
    app.address
        .trim_start_matches("http://")
        .parse()
        .expect("the test server's address")
}

async fn provider() -> TestApp {
    spawn_app_with(&[("ISSUER", ISSUER)]).await
}

fn oidc_client(id_token_alg: Option<&str>) -> ClientOptions {
    ClientOptions {
        scope: SCOPE.into(),
        id_token_alg: id_token_alg.map(str::to_owned),
        ..ClientOptions::default()
    }
}

/// What the library holds after discovery, for one registered client.
struct RelyingParty {
    client: openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    server: SocketAddr,
}

async fn discover(app: &TestApp, registered: &TestClient) -> RelyingParty {
    let server = server_of(app);
    let http = localhost_at(server);
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(ISSUER.into()).unwrap(), &http)
            .await
            .expect("the library accepts our discovery document and JWKS");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registered.client_id.clone()),
        registered.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(registered.redirect_uri.clone()).unwrap());
    RelyingParty { client, server }
}

/// The front channel as a browser runs it: `alice` opens the library's authorization URL
/// and allows; returns the redirect back to the client.
async fn front_channel(alice: &TestUser, url: &url::Url) -> String {
    let path = &url.as_str()[ISSUER.len()..];
    location(&alice.authorize(path, "allow").await)
}

struct Signed {
    token: openidconnect::core::CoreTokenResponse,
    nonce: Nonce,
}

/// Discovery, authorization with PKCE and a nonce, and the code exchange, by the library.
async fn sign_in(rp: &RelyingParty, alice: &TestUser, scopes: &[&str]) -> Signed {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp.client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    let redirect = front_channel(alice, &url).await;
    assert_eq!(
        query_param(&redirect, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(query_param(&redirect, "iss").as_deref(), Some(ISSUER));
    let code = query_param(&redirect, "code").expect("a code");
    let token = rp
        .client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&localhost_at(rp.server))
        .await
        .expect("the library accepts our token response");
    Signed { token, nonce }
}

#[actix_web::test]
async fn the_openidconnect_crate_signs_in_calls_userinfo_and_refreshes_with_rs256() {
    let app = provider().await;
    let registered = app.register_client(oidc_client(None)).await;
    let alice = app.signed_in_user("alice").await;
    let rp = discover(&app, &registered).await;
    let Signed { token, nonce } = sign_in(
        &rp,
        &alice,
        &["openid", "profile", "email", "offline_access"],
    )
    .await;

    let id_token = token.id_token().expect("an ID token for an openid request");
    let verifier = rp.client.id_token_verifier();
    let claims: &CoreIdTokenClaims = id_token
        .claims(&verifier, &nonce)
        .expect("the ID token validates: signature against the JWKS, iss, aud, exp, nonce");
    assert_eq!(
        id_token.signing_alg().unwrap(),
        &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
    );
    let expected_hash = AccessTokenHash::from_token(
        token.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    let auth_time = claims.auth_time().expect("auth_time");
    assert!(auth_time <= chrono::Utc::now());
    assert_eq!(
        claims.nonce().map(|n| n.secret().as_str()),
        Some(nonce.secret().as_str())
    );
    let subject = claims.subject().clone();

    let info: CoreUserInfoClaims = rp
        .client
        .user_info(token.access_token().clone(), Some(subject.clone()))
        .unwrap()
        .request_async(&localhost_at(rp.server))
        .await
        .expect("userinfo answers for the same subject");
    assert_eq!(
        info.preferred_username().map(|name| name.as_str()),
        Some("alice")
    );
    assert_eq!(
        info.email().map(|email| email.as_str()),
        Some("alice@example.com")
    );
    assert_eq!(info.email_verified(), Some(false));

    // Core §12.2: a refresh returns a new ID token, same sub and auth_time, no nonce.
    let refreshed = rp
        .client
        .exchange_refresh_token(
            token
                .refresh_token()
                .expect("offline_access: a refresh token"),
        )
        .unwrap()
        .request_async(&localhost_at(rp.server))
        .await
        .expect("the library accepts the refresh");
    let new_id_token = refreshed.id_token().expect("a new ID token");
    let new_claims = new_id_token
        .claims(&verifier, |nonce: Option<&Nonce>| match nonce {
            None => Ok(()),
            Some(_) => Err("a refreshed ID token carries no nonce".to_owned()),
        })
        .expect("the refreshed ID token validates");
    assert_eq!(new_claims.subject(), &subject);
    assert_eq!(new_claims.auth_time(), Some(auth_time));
}

#[actix_web::test]
async fn a_client_registered_for_eddsa_gets_eddsa_id_tokens() {
    let app = provider().await;
    let registered = app.register_client(oidc_client(Some("EdDSA"))).await;
    let alice = app.signed_in_user("alice").await;
    let rp = discover(&app, &registered).await;
    let Signed { token, nonce } = sign_in(&rp, &alice, &["openid"]).await;
    let id_token = token.id_token().unwrap();
    assert_eq!(
        id_token.signing_alg().unwrap(),
        &CoreJwsSigningAlgorithm::EdDsa
    );
    // A relying party that allows RS256 alone refuses it: the algorithm is the client's.
    let rs256_only = rp
        .client
        .id_token_verifier()
        .set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
    assert!(id_token.claims(&rs256_only, &nonce).is_err());
    let verifier = rp
        .client
        .id_token_verifier()
        .set_allowed_algs([CoreJwsSigningAlgorithm::EdDsa]);
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("validates as EdDSA");
    let expected_hash = AccessTokenHash::from_token(
        token.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    // openid without offline_access: no refresh token (Core §11).
    assert!(token.refresh_token().is_none());
}

#[actix_web::test]
async fn a_wrong_nonce_or_audience_fails_the_librarys_validation() {
    let app = provider().await;
    let registered = app.register_client(oidc_client(None)).await;
    let other = app.register_client(oidc_client(None)).await;
    let alice = app.signed_in_user("alice").await;
    let rp = discover(&app, &registered).await;
    let Signed { token, nonce } = sign_in(&rp, &alice, &["openid"]).await;
    let id_token = token.id_token().unwrap();
    let verifier = rp.client.id_token_verifier();
    assert!(id_token.claims(&verifier, &nonce).is_ok());
    assert!(
        id_token
            .claims(&verifier, &Nonce::new("another-nonce".into()))
            .is_err(),
        "a nonce other than the one sent"
    );
    let other_rp = discover(&app, &other).await;
    assert!(
        id_token
            .claims(&other_rp.client.id_token_verifier(), &nonce)
            .is_err(),
        "an ID token for another client"
    );
}

/// A raw authorization request for `client` (`state=s`), with PKCE when `pkce` is given
/// and extra parameters.
fn authorize_path_for(
    client: &TestClient,
    scope: &str,
    pkce: Option<&Pkce>,
    extra: &[(&str, &str)],
) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("redirect_uri", &client.redirect_uri),
        ("scope", scope),
        ("state", "s"),
    ];
    if let Some(pkce) = pkce {
        params.push(("code_challenge", &pkce.challenge));
        params.push(("code_challenge_method", "S256"));
    }
    params.extend_from_slice(extra);
    crate::support::oauth_client::authorize_path(&params)
}

/// The same with a fresh PKCE challenge whose verifier is not needed.
fn authorize_with(client: &TestClient, scope: &str, extra: &[(&str, &str)]) -> String {
    authorize_path_for(client, scope, Some(&pkce()), extra)
}

#[actix_web::test]
async fn prompt_none_answers_the_client_instead_of_showing_a_page() {
    let app = provider().await;
    let client = app.register_client(oidc_client(None)).await;

    // No session: login_required, back to the client with state and iss.
    let visitor = app.visitor();
    let response = visitor
        .get(&authorize_with(&client, "openid", &[("prompt", "none")]))
        .await;
    assert_eq!(response.status(), 302);
    let to = location(&response);
    assert!(to.starts_with(&client.redirect_uri), "{to}");
    assert_eq!(query_param(&to, "error").as_deref(), Some("login_required"));
    assert_eq!(query_param(&to, "state").as_deref(), Some("s"));

    // Signed in, never consented: consent_required.
    let alice = app.signed_in_user("alice").await;
    let to = location(
        &alice
            .get(&authorize_with(&client, "openid", &[("prompt", "none")]))
            .await,
    );
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("consent_required")
    );

    // Consented to openid: prompt=none gets a code; a new scope needs consent again.
    let allowed = location(
        &alice
            .authorize(&authorize_with(&client, "openid", &[]), "allow")
            .await,
    );
    assert!(query_param(&allowed, "code").is_some());
    let to = location(
        &alice
            .get(&authorize_with(&client, "openid", &[("prompt", "none")]))
            .await,
    );
    assert!(query_param(&to, "code").is_some(), "{to}");
    let to = location(
        &alice
            .get(&authorize_with(
                &client,
                "openid email",
                &[("prompt", "none")],
            ))
            .await,
    );
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("consent_required")
    );

    // prompt=none with another value is invalid_request.
    let to = location(
        &alice
            .get(&authorize_with(
                &client,
                "openid",
                &[("prompt", "none login")],
            ))
            .await,
    );
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("invalid_request")
    );
}

/// Follows a redirect to our sign-in page: signs in there and goes on to where it leads.
async fn sign_in_again(user: &TestUser, login_redirect: &str) -> reqwest::Response {
    assert!(login_redirect.starts_with("/login?"), "{login_redirect}");
    let return_to = query_param(&format!("http://x{login_redirect}"), "return_to").unwrap();
    let signed_in = user
        .login_to("alice", crate::support::browser::PASSWORD, &return_to)
        .await;
    assert_eq!(signed_in.status(), 303);
    user.authorize(&location(&signed_in), "allow").await
}

/// The code's ID token's `auth_time`, read without validation (the library tests above
/// validate; here only the value matters).
async fn auth_time_of(app: &TestApp, client: &TestClient, redirect: &str) -> i64 {
    let code = query_param(redirect, "code").expect("a code");
    let body: serde_json::Value = app
        .exchange_code(client, &code, None)
        .await
        .json()
        .await
        .unwrap();
    let id_token = body["id_token"].as_str().expect("an ID token");
    unverified_claims(id_token)["auth_time"].as_i64().unwrap()
}

#[actix_web::test]
async fn prompt_login_and_max_age_make_the_person_sign_in_again_and_move_auth_time() {
    let app = provider().await;
    let client = app
        .register_client(ClientOptions {
            require_pkce: false,
            ..oidc_client(None)
        })
        .await;
    let alice = app.signed_in_user("alice").await;
    let plain = |extra: &[(&str, &str)]| authorize_path_for(&client, "openid", None, extra);
    let first = location(&alice.authorize(&plain(&[]), "allow").await);
    let first_auth_time = auth_time_of(&app, &client, &first).await;

    // A second request with the same session keeps auth_time.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = location(&alice.get(&plain(&[])).await);
    assert_eq!(auth_time_of(&app, &client, &again).await, first_auth_time);

    // prompt=login: our sign-in page, prefilled from login_hint; then a later auth_time.
    let to_login = location(
        &alice
            .get(&plain(&[("prompt", "login"), ("login_hint", "alice")]))
            .await,
    );
    assert!(to_login.contains("login_hint=alice"), "{to_login}");
    let page = alice.get(&to_login).await.text().await.unwrap();
    assert!(
        page.contains(r#"value="alice""#),
        "the username is prefilled"
    );
    let after = location(&sign_in_again(&alice, &to_login).await);
    let second_auth_time = auth_time_of(&app, &client, &after).await;
    assert!(second_auth_time > first_auth_time);

    // max_age=0: the same.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let to_login = location(&alice.get(&plain(&[("max_age", "0")])).await);
    let after = location(&sign_in_again(&alice, &to_login).await);
    assert!(auth_time_of(&app, &client, &after).await > second_auth_time);

    // A generous max_age does not ask; with prompt=none an exceeded one is login_required.
    let to = location(&alice.get(&plain(&[("max_age", "3600")])).await);
    assert!(query_param(&to, "code").is_some(), "{to}");
    let to = location(
        &alice
            .get(&plain(&[("max_age", "0"), ("prompt", "none")]))
            .await,
    );
    assert_eq!(query_param(&to, "error").as_deref(), Some("login_required"));
}

#[actix_web::test]
async fn prompt_consent_asks_again_even_when_allowed_before() {
    let app = provider().await;
    let client = app.register_client(oidc_client(None)).await;
    let alice = app.signed_in_user("alice").await;
    let first = alice
        .authorize(&authorize_with(&client, "openid", &[]), "allow")
        .await;
    assert!(query_param(&location(&first), "code").is_some());
    // Allowed before: straight back with a code…
    let again = alice.get(&authorize_with(&client, "openid", &[])).await;
    assert_eq!(again.status(), 302);
    // …unless prompt=consent.
    let asked = alice
        .get(&authorize_with(&client, "openid", &[("prompt", "consent")]))
        .await;
    assert_eq!(asked.status(), 200);
    assert!(asked.text().await.unwrap().contains("Allow"));
}

async fn stack() -> TestStack {
    spawn_stack_with(&[("ISSUER", ISSUER)]).await
}

#[actix_web::test]
async fn userinfo_answers_rfc_6750_errors_and_refuses_tokens_without_openid() {
    let stack = stack().await;
    let app = &stack.auth;
    let client = app.register_client(oidc_client(None)).await;
    let alice = app.signed_in_user("alice").await;
    let userinfo = |token: Option<&str>| {
        let request = reqwest::Client::new().get(app.url("/userinfo"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    };

    let response = userinfo(None).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"userinfo\""
    );
    let response = userinfo(Some("not-a-token")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );

    // A task-API token without openid: insufficient_scope.
    let p = pkce();
    let plain_path = authorize_path_for(&client, "tasks:read", Some(&p), &[]);
    let code = query_param(
        &location(&alice.authorize(&plain_path, "allow").await),
        "code",
    )
    .unwrap();
    let tokens: serde_json::Value = app
        .exchange_code(&client, &code, Some(&p.verifier))
        .await
        .json()
        .await
        .unwrap();
    assert!(tokens.get("id_token").is_none(), "no openid, no ID token");
    assert!(
        tokens.get("refresh_token").is_some(),
        "plain OAuth keeps refreshing"
    );
    let response = userinfo(tokens["access_token"].as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"openid\""), "{challenge}");

    // An openid token works by header and by form body (RFC 6750 §2.2), not both; once
    // revoked, it is refused.
    let p = pkce();
    let path = authorize_path_for(&client, "openid email tasks:read", Some(&p), &[]);
    let code = query_param(&location(&alice.authorize(&path, "allow").await), "code").unwrap();
    let tokens: serde_json::Value = app
        .exchange_code(&client, &code, Some(&p.verifier))
        .await
        .json()
        .await
        .unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    assert!(
        tokens.get("refresh_token").is_none(),
        "openid without offline_access"
    );
    let info: serde_json::Value = userinfo(Some(access_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["email"], "alice@example.com");
    assert!(
        info.get("preferred_username").is_none(),
        "profile was not granted"
    );
    let by_form = reqwest::Client::new()
        .post(app.url("/userinfo"))
        .form(&[("access_token", access_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(by_form.status(), 200);
    assert_eq!(by_form.headers()["cache-control"], "no-store");
    let both = reqwest::Client::new()
        .post(app.url("/userinfo"))
        .bearer_auth(access_token)
        .form(&[("access_token", access_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 400);
    let repeated = reqwest::Client::new()
        .post(app.url("/userinfo"))
        .form(&[
            ("access_token", access_token),
            ("access_token", access_token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(repeated.status(), 400);
    let body: serde_json::Value = repeated.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");

    // An ID token is no access token, for userinfo or the task API.
    assert_eq!(userinfo(Some(id_token)).send().await.unwrap().status(), 401);
    let api = stack
        .api(reqwest::Method::GET, "/api/tasks", Some(id_token))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);

    assert_eq!(app.revoke(&client, access_token).await.status(), 200);
    assert_eq!(
        userinfo(Some(access_token)).send().await.unwrap().status(),
        401
    );
}

#[actix_web::test]
async fn discovery_documents_agree_and_client_credentials_never_grants_identity_scopes() {
    let app = provider().await;
    let visitor = app.visitor();
    let oidc: serde_json::Value = visitor
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    let oauth: serde_json::Value = visitor
        .get("/.well-known/oauth-authorization-server")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(oidc, oauth);
    assert_eq!(oidc["issuer"], ISSUER);
    assert_eq!(oidc["userinfo_endpoint"], "http://localhost/userinfo");
    assert_eq!(
        oidc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "EdDSA"])
    );
    assert_eq!(oidc["request_uri_parameter_supported"], false);
    for claim in [
        "sub",
        "auth_time",
        "nonce",
        "email",
        "email_verified",
        "sid",
    ] {
        assert!(
            oidc["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!(claim)),
            "{claim}"
        );
    }

    let service = app
        .register_client(ClientOptions {
            scope: "openid tasks:read".into(),
            ..crate::support::oauth_client::service_client()
        })
        .await;
    let asked = app
        .client_post(
            &service,
            "/token",
            &[
                ("grant_type", "client_credentials".to_owned()),
                ("scope", "openid".to_owned()),
            ],
        )
        .await;
    assert_eq!(asked.status(), 400);
    let body: serde_json::Value = asked.json().await.unwrap();
    assert_eq!(body["error"], "invalid_scope");
    let default: serde_json::Value = app
        .client_post(
            &service,
            "/token",
            &[("grant_type", "client_credentials".to_owned())],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(default["scope"], "tasks:read", "identity scopes left out");
    assert!(default.get("id_token").is_none());
}

#[actix_web::test]
async fn registration_refuses_an_unknown_id_token_algorithm() {
    let app = provider().await;
    let result = auth_server::oauth::clients::register(
        &app.db,
        auth_server::oauth::clients::NewClient {
            name: "App".into(),
            redirect_uris: vec!["https://app.example.com/cb".into()],
            scope: "openid".into(),
            grant_types: vec!["authorization_code".into()],
            is_public: false,
            is_first_party: false,
            require_pkce: true,
            is_resource_server: false,
            id_token_signed_response_alg: Some("HS256".into()),
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            require_mfa: false,
        },
    )
    .await;
    let error = result.expect_err("refused").to_string();
    assert!(error.starts_with("--id-token-alg"), "{error}");
}
