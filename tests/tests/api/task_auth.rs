//! How the task API checks callers (SECURITY.md 17–20): Bearer tokens from the header only,
//! verified against the JWKS with every claim checked, revocation within a second, and
//! RFC 6750 answers.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::json;

use crate::support::database::TestDatabase;
use crate::support::oauth_client::{ClientOptions, service_client};
use crate::support::servers::{
    TestStack, spawn_app_on, spawn_stack, spawn_stack_with, test_settings,
};
use crate::support::tokens::{claims, sign, signing_key, user_token};

fn challenge(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn status_with(stack: &TestStack, token: &str) -> (u16, String) {
    let response = stack
        .api(Method::GET, "/api/tasks", Some(token))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), challenge(&response))
}

#[actix_web::test]
async fn no_token_gets_a_bare_bearer_challenge() {
    let stack = spawn_stack().await;
    let response = stack
        .api(Method::GET, "/api/tasks", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(challenge(&response), "Bearer realm=\"tasks\"");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    // A token in the query string is not a credential (RFC 6750 §2.3 is not supported).
    let token = user_token(&stack, "tasks:read").await;
    let response = stack
        .api(
            Method::GET,
            &format!("/api/tasks?access_token={token}"),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        stack
            .api(Method::GET, "/api/health", None)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[actix_web::test]
async fn every_claim_and_the_signature_are_checked() {
    let stack = spawn_stack().await;
    let good = user_token(&stack, "tasks:read tasks:write").await;
    assert_eq!(status_with(&stack, &good).await.0, 200);
    let (key, kid) = signing_key(&stack).await;
    let now = chrono::Utc::now().timestamp();

    // Signed with the real key, but one claim is wrong.
    for (what, bad) in [
        (
            "expired beyond the 60 s leeway",
            json!({ "exp": now - 61, "iat": now - 700 }),
        ),
        (
            "another audience",
            json!({ "aud": "https://other.example" }),
        ),
        ("another issuer", json!({ "iss": "https://evil.example" })),
        ("not valid yet", json!({ "nbf": now + 120 })),
    ] {
        let (status, header) = status_with(&stack, &sign(&key, &kid, &claims(bad))).await;
        assert_eq!(status, 401, "{what}");
        assert!(
            header.contains("error=\"invalid_token\""),
            "{what}: {header}"
        );
    }
    // Within the leeway: accepted.
    assert_eq!(
        status_with(
            &stack,
            &sign(&key, &kid, &claims(json!({ "exp": now - 30 })))
        )
        .await
        .0,
        200
    );

    // A key the issuer never published.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let der = ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_der(&stranger).unwrap();
    let foreign = sign(
        &EncodingKey::from_ed_der(der.as_bytes()),
        "unknown-kid",
        &claims(json!({})),
    );
    assert_eq!(status_with(&stack, &foreign).await.0, 401);
    let same_kid = sign(
        &EncodingKey::from_ed_der(der.as_bytes()),
        &kid,
        &claims(json!({})),
    );
    assert_eq!(
        status_with(&stack, &same_kid).await.0,
        401,
        "our kid, someone else's key"
    );

    // alg: none, and HS256 keyed with the public key.
    let payload = URL_SAFE_NO_PAD.encode(claims(json!({})).to_string());
    let none = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#)
    );
    assert_eq!(status_with(&stack, &none).await.0, 401);
    let jwks: serde_json::Value = stack
        .auth
        .visitor()
        .get("/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let ed25519 = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kty"] == "OKP")
        .unwrap();
    let public = URL_SAFE_NO_PAD
        .decode(ed25519["x"].as_str().unwrap())
        .unwrap();
    let mut hs = Header::new(Algorithm::HS256);
    hs.typ = Some("at+jwt".into());
    hs.kid = Some(kid.clone());
    let confused =
        jsonwebtoken::encode(&hs, &claims(json!({})), &EncodingKey::from_secret(&public)).unwrap();
    assert_eq!(status_with(&stack, &confused).await.0, 401);

    // A tampered payload.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut body: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    body["scope"] = json!("tasks:read tasks:write admin");
    parts[1] = URL_SAFE_NO_PAD.encode(body.to_string());
    assert_eq!(status_with(&stack, &parts.join(".")).await.0, 401);

    // Not an access token (typ), and garbage.
    let mut id_token = Header::new(Algorithm::EdDSA);
    id_token.kid = Some(kid.clone());
    let untyped = jsonwebtoken::encode(&id_token, &claims(json!({})), &key).unwrap();
    assert_eq!(status_with(&stack, &untyped).await.0, 401);
    assert_eq!(status_with(&stack, "garbage").await.0, 401);
}

#[actix_web::test]
async fn a_missing_scope_is_403_naming_it() {
    let stack = spawn_stack().await;
    let read_only = user_token(&stack, "tasks:read").await;
    let response = stack
        .api(Method::POST, "/api/tasks", Some(&read_only))
        .json(&json!({ "title": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        challenge(&response),
        "Bearer realm=\"tasks\", error=\"insufficient_scope\", scope=\"tasks:write\""
    );
    assert_eq!(
        stack
            .api(Method::GET, "/api/tasks", Some(&read_only))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A client acting for itself has no tasks.
    let service = stack.auth.register_client(service_client()).await;
    let body: serde_json::Value = stack
        .auth
        .token_request(&service, &[("grant_type", "client_credentials".to_owned())])
        .await
        .json()
        .await
        .unwrap();
    let response = stack
        .api(Method::GET, "/api/tasks", body["access_token"].as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[actix_web::test]
async fn a_revoked_token_is_refused_within_a_second() {
    let stack = spawn_stack().await;
    let client = stack.auth.register_client(ClientOptions::default()).await;
    let alice = stack.auth.signed_in_user("alice").await;
    let tokens = alice.tokens_for(&client).await;
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(status_with(&stack, token).await.0, 200);

    assert_eq!(stack.auth.revoke(&client, token).await.status(), 200);
    let revoked_at = std::time::Instant::now();
    let mut status = 200;
    while revoked_at.elapsed() < Duration::from_secs(1) {
        status = status_with(&stack, token).await.0;
        if status == 401 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 401, "refused within one second of revocation");
}

#[actix_web::test]
async fn a_key_rotated_in_after_startup_is_accepted_without_restart() {
    let stack = spawn_stack_with(&[("SIGNING_KEYS_RELOAD", "1s")]).await;
    let service = stack.auth.register_client(service_client()).await;
    let old_kid = signing_key(&stack).await.1;
    let retire = shared::models::now() + chrono::Duration::minutes(20);
    let new_kid = stack
        .auth
        .db
        .run(move |conn| auth_server::oauth::keys::rotate(conn, None, retire))
        .await
        .unwrap()
        .into_iter()
        .find(|row| row.alg == "EdDSA")
        .unwrap()
        .kid;
    // Once the auth-server signs with the new key, the API must accept its tokens.
    let mut accepted_new = false;
    for _ in 0..40 {
        let body: serde_json::Value = stack
            .auth
            .token_request(&service, &[("grant_type", "client_credentials".to_owned())])
            .await
            .json()
            .await
            .unwrap();
        let token = body["access_token"].as_str().unwrap().to_owned();
        let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
        // Client tokens get 403 on tasks, but only after the token verified (not 401).
        let (status, _) = status_with(&stack, &token).await;
        assert_eq!(status, 403, "kid {kid}");
        if kid == new_kid {
            accepted_new = true;
            break;
        }
        assert_eq!(kid, old_kid);
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(accepted_new, "the new key signed and its token verified");
}

#[actix_web::test]
async fn a_key_pulled_from_the_jwks_stops_verifying_even_for_tokens_seen_before() {
    let stack = spawn_stack_with(&[("SIGNING_KEYS_RELOAD", "1s")]).await;
    let service = stack.auth.register_client(service_client()).await;
    let issue = || async {
        let body: serde_json::Value = stack
            .auth
            .token_request(&service, &[("grant_type", "client_credentials".to_owned())])
            .await
            .json()
            .await
            .unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    };
    let old_token = issue().await;
    // Verified (403: valid, but a client token has no user), and so cached by the API.
    assert_eq!(status_with(&stack, &old_token).await.0, 403);

    // What `keys rotate --retire-previous-now` does after a key is compromised.
    let now = shared::models::now();
    stack
        .auth
        .db
        .run(move |conn| auth_server::oauth::keys::rotate(conn, None, now))
        .await
        .unwrap();
    let mut status = 0;
    for _ in 0..60 {
        status = status_with(&stack, &old_token).await.0;
        if status == 401 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, 401,
        "the pulled key's token is refused after a reload"
    );
    let (status, challenge) = status_with(&stack, &old_token).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("unknown signing key"), "{challenge}");

    // Tokens from the new key verify (once the auth-server has reloaded its keys).
    let mut new_status = 0;
    for _ in 0..30 {
        new_status = status_with(&stack, &issue().await).await.0;
        if new_status == 403 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(new_status, 403);
}

#[actix_web::test]
async fn a_token_revoked_before_the_api_started_is_refused_from_its_first_request() {
    let (database, url) = TestDatabase::create();
    let auth = spawn_app_on(database, &url, &[]).await;
    let client = auth.register_client(ClientOptions::default()).await;
    let tokens = auth.signed_in_user("alice").await.tokens_for(&client).await;
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(auth.revoke(&client, token).await.status(), 200);

    // A task API that starts only now: it opens with the revocation list loaded.
    let jwks_url = format!("{}/jwks.json", auth.address);
    let api = resource_api::startup::build(test_settings(&url, &[("JWKS_URL", jwks_url.as_str())]))
        .await
        .unwrap();
    let tasks = format!("http://127.0.0.1:{}/api/tasks", api.port());
    actix_web::rt::spawn(api.run_until_stopped());
    let response = reqwest::Client::new()
        .get(tasks)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        challenge(&response).contains("revoked"),
        "{}",
        challenge(&response)
    );
}

#[actix_web::test]
async fn the_periodic_jwks_refresh_does_not_hold_back_a_key_rotated_in_just_after_it() {
    use std::sync::{Arc, Mutex};

    use actix_web::{App, HttpServer, web};

    fn jwk(kid: &str, x: &str) -> serde_json::Value {
        json!({ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid, "x": x })
    }
    // An issuer whose published keys the test changes.
    let published = Arc::new(Mutex::new(vec![jwk(
        "old",
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    )]));
    let served = published.clone();
    let server = HttpServer::new(move || {
        let served = served.clone();
        App::new().route(
            "/jwks.json",
            web::get().to(move || {
                let keys = served.lock().unwrap().clone();
                async move { web::Json(json!({ "keys": keys })) }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());

    let cache =
        resource_api::auth::jwks::JwksCache::new(format!("http://127.0.0.1:{port}/jwks.json"))
            .unwrap();
    assert_eq!(cache.refresh().await, Ok(1), "the periodic refresh");
    published
        .lock()
        .unwrap()
        .push(jwk("new", &URL_SAFE_NO_PAD.encode([7u8; 32])));
    assert!(
        cache.key("new").await.is_some(),
        "a token with the new kid, right after the periodic refresh, fetches it"
    );
    assert!(cache.key("forged").await.is_none());
    assert!(
        cache.key("forged-again").await.is_none(),
        "and unknown kids still cost at most one fetch a second"
    );
}
