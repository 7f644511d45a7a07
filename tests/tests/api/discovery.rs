//! Metadata (RFC 8414), the JWKS, and the signing keys behind them.

use diesel::prelude::*;
use shared::schema::signing_keys;

use crate::support::database::TestDatabase;
use crate::support::oauth_client::{ClientOptions, pkce};
use crate::support::servers::{spawn_app, spawn_app_on, test_settings};

#[actix_web::test]
async fn metadata_lists_the_endpoints_and_capabilities() {
    let app = spawn_app().await;
    let response = app
        .visitor()
        .get("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(response.status(), 200);
    let m: serde_json::Value = response.json().await.unwrap();
    assert_eq!(m["issuer"], "http://127.0.0.1:8080");
    assert_eq!(
        m["authorization_endpoint"],
        "http://127.0.0.1:8080/authorize"
    );
    assert_eq!(m["token_endpoint"], "http://127.0.0.1:8080/token");
    assert_eq!(m["jwks_uri"], "http://127.0.0.1:8080/jwks.json");
    assert_eq!(m["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        m["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        m["grant_types_supported"],
        serde_json::json!(["authorization_code", "client_credentials", "refresh_token"])
    );
    assert_eq!(m["revocation_endpoint"], "http://127.0.0.1:8080/revoke");
    assert_eq!(
        m["introspection_endpoint"],
        "http://127.0.0.1:8080/introspect"
    );
    assert_eq!(
        m["scopes_supported"],
        serde_json::json!([
            "openid",
            "profile",
            "email",
            "offline_access",
            "tasks:read",
            "tasks:write"
        ])
    );
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
}

#[actix_web::test]
async fn the_jwks_publishes_the_signing_keys_without_their_private_parts() {
    let app = spawn_app().await;
    let jwks: serde_json::Value = app.visitor().get("/jwks.json").await.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "one Ed25519 and one RSA key: {keys:?}");
    let okp = keys.iter().find(|k| k["kty"] == "OKP").unwrap();
    assert_eq!(okp["crv"], "Ed25519");
    assert_eq!(okp["alg"], "EdDSA");
    assert_eq!(okp["use"], "sig");
    assert!(okp.get("d").is_none());
    let rsa = keys.iter().find(|k| k["kty"] == "RSA").unwrap();
    assert_eq!(rsa["alg"], "RS256");
    assert_eq!(rsa["use"], "sig");
    assert_eq!(rsa["e"], "AQAB");
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(rsa.get(private).is_none(), "{private}");
    }
    assert_ne!(okp["kid"], rsa["kid"]);
}

#[actix_web::test]
async fn instances_on_one_database_share_the_key_and_it_is_encrypted_at_rest() {
    let secret = (
        "KEY_ENCRYPTION_KEY",
        "correct horse battery staple, 32+ chars",
    );
    let (database, url) = TestDatabase::create();
    let first = spawn_app_on(database, &url, &[secret]).await;
    // A second instance on the same database.
    let second = auth_server::startup::build(test_settings(&url, &[secret]))
        .await
        .unwrap();
    let second_url = format!("http://127.0.0.1:{}", second.port());
    actix_web::rt::spawn(second.run_until_stopped());

    let a: serde_json::Value = first
        .visitor()
        .get("/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let b: serde_json::Value = reqwest::get(format!("{second_url}/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a, b, "every instance publishes the same keys");

    let stored: Vec<String> = first
        .query(|c| {
            signing_keys::table
                .select(signing_keys::private_key)
                .load(c)
        })
        .await;
    assert_eq!(stored.len(), 2, "an Ed25519 and an RSA key");
    assert!(
        stored.iter().all(|key| key.starts_with("v1:")),
        "encrypted at rest"
    );

    // The tokens of one instance verify with the keys of the other.
    let client = first.register_client(ClientOptions::default()).await;
    let alice = first.signed_in_user("alice").await;
    let p = pkce();
    let code = alice.obtain_code(&client, &p).await;
    let body: serde_json::Value = first
        .exchange_code(&client, &code, Some(&p.verifier))
        .await
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(body["access_token"].as_str().unwrap()).unwrap();
    let ed25519 = b["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "EdDSA")
        .unwrap();
    assert_eq!(header.kid.as_deref(), ed25519["kid"].as_str());

    // Without the right secret the key cannot be used: startup says why.
    let wrong = auth_server::startup::build(test_settings(
        &url,
        &[("KEY_ENCRYPTION_KEY", "a different secret of 32+ characters")],
    ))
    .await;
    let message = wrong.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("cannot be decrypted"), "{message}");
}

#[actix_web::test]
async fn a_key_stored_in_the_clear_is_sealed_and_replaced_once_a_secret_is_set() {
    let (database, url) = TestDatabase::create();
    // A development start: no KEY_ENCRYPTION_KEY, so the first key is stored plain.
    let development = spawn_app_on(database, &url, &[]).await;
    let client = development.register_client(ClientOptions::default()).await;
    let alice = development.signed_in_user("alice").await;
    let p = pkce();
    let code = alice.obtain_code(&client, &p).await;
    let body: serde_json::Value = development
        .exchange_code(&client, &code, Some(&p.verifier))
        .await
        .json()
        .await
        .unwrap();
    let old_token = body["access_token"].as_str().unwrap().to_owned();
    let refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
    let old_kid = jsonwebtoken::decode_header(&old_token)
        .unwrap()
        .kid
        .unwrap();

    // The same database, now started with a secret (and a short reload, so the new keys'
    // warm-up is short).
    let secret = [
        (
            "KEY_ENCRYPTION_KEY",
            "correct horse battery staple, 32+ chars",
        ),
        ("SIGNING_KEYS_RELOAD", "1s"),
    ];
    let sealed = auth_server::startup::build(test_settings(&url, &secret))
        .await
        .unwrap();
    let sealed_url = format!("http://127.0.0.1:{}", sealed.port());
    actix_web::rt::spawn(sealed.run_until_stopped());

    let stored: Vec<(String, String, Option<chrono::NaiveDateTime>)> = development
        .query(|c| {
            signing_keys::table
                .select((
                    signing_keys::kid,
                    signing_keys::private_key,
                    signing_keys::retire_after,
                ))
                .load(c)
        })
        .await;
    assert_eq!(
        stored.len(),
        4,
        "a new key of each kind was added: {stored:?}"
    );
    assert!(
        stored.iter().all(|(_, key, _)| key.starts_with("v1:")),
        "no private key is left in the clear"
    );
    let retiring: Vec<&str> = stored
        .iter()
        .filter(|(_, _, retire_after)| retire_after.is_some())
        .map(|(kid, _, _)| kid.as_str())
        .collect();
    assert_eq!(retiring.len(), 2, "the old keys are retiring: {stored:?}");
    assert!(retiring.contains(&old_kid.as_str()));

    // The old key stays published, so the token it signed still verifies; the new one signs.
    let jwks: serde_json::Value = reqwest::get(format!("{sealed_url}/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut published: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    published.sort_unstable();
    let mut expected: Vec<&str> = stored.iter().map(|(kid, _, _)| kid.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(published, expected, "the old keys stay published");
    // Refreshing along: the old key signs while the new ones warm up, then a new one does.
    let mut refresh_token = refresh_token;
    let started = std::time::Instant::now();
    loop {
        let body: serde_json::Value = reqwest::Client::new()
            .post(format!("{sealed_url}/token"))
            .basic_auth(&client.client_id, client.secret.as_deref())
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh_token),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
        let header = jsonwebtoken::decode_header(body["access_token"].as_str().unwrap()).unwrap();
        let kid = header.kid.unwrap();
        if !retiring.contains(&kid.as_str()) {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no new key signs after 10 s"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // Another start with the secret changes nothing more.
    let again = auth_server::startup::build(test_settings(&url, &secret))
        .await
        .unwrap();
    drop(again);
    let count: i64 = development
        .query(|c| signing_keys::table.count().get_result(c))
        .await;
    assert_eq!(count, 4);
}
