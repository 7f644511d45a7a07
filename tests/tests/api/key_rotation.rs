//! Signing-key rotation (SECURITY.md 11): the new key is published first and signs once every
//! instance publishes it, the old one stays published until the tokens it signed have
//! expired, and no request fails along the way.

use std::collections::HashSet;
use std::time::Duration;

use jsonwebtoken::jwk::{JwkSet, KeyAlgorithm};

use crate::support::oauth_client::service_client;
use crate::support::servers::{TestApp, spawn_app_with};

async fn rotate(app: &TestApp, retire_previous_after: chrono::NaiveDateTime) -> String {
    app.db
        .run(move |conn| auth_server::oauth::keys::rotate(conn, None, retire_previous_after))
        .await
        .expect("rotated")
        .into_iter()
        .find(|row| row.alg == "EdDSA")
        .expect("a new access-token key")
        .kid
}

async fn jwks(app: &TestApp) -> JwkSet {
    app.visitor().get("/jwks.json").await.json().await.unwrap()
}

/// Verifies like a resource server: with the cached JWKS, refetched once on an unknown kid.
async fn verify(app: &TestApp, cache: &mut JwkSet, token: &str) -> String {
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    if cache.find(&kid).is_none() {
        *cache = jwks(app).await;
    }
    let jwk = cache
        .find(&kid)
        .unwrap_or_else(|| panic!("kid {kid} is published"));
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["http://127.0.0.1:8081"]);
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).expect("verifies");
    kid
}

#[actix_web::test]
async fn a_rotation_in_a_stream_of_requests_fails_none_of_them() {
    let app = spawn_app_with(&[("SIGNING_KEYS_RELOAD", "1s")]).await;
    let service = app.register_client(service_client()).await;
    let mut cache = jwks(&app).await;
    let mut kids = Vec::new();
    let mut tokens = Vec::new();
    let mut new_kid = None;
    // Whether the JWKS served the new key before any token it signed was issued.
    let mut published_before_signing = false;
    let mut after_switch = 0;
    let started = std::time::Instant::now();
    for i in 0.. {
        if i == 5 {
            new_kid =
                Some(rotate(&app, shared::models::now() + chrono::Duration::minutes(20)).await);
        }
        let response = app
            .token_request(&service, &[("grant_type", "client_credentials".to_owned())])
            .await;
        assert_eq!(response.status(), 200, "request {i}");
        let body: serde_json::Value = response.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap().to_owned();
        let kid = verify(&app, &mut cache, &token).await;
        if new_kid.as_ref() == Some(&kid) {
            assert!(
                published_before_signing,
                "the new key signed before it was published"
            );
            after_switch += 1;
        } else if let Some(new_kid) = &new_kid {
            published_before_signing |= jwks(&app).await.find(new_kid).is_some();
        }
        kids.push(kid);
        tokens.push(token);
        if after_switch == 5 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the new key never signed: {kids:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let distinct: HashSet<&String> = kids.iter().collect();
    assert_eq!(distinct.len(), 2, "the new key took over: {kids:?}");
    assert_eq!(kids.last(), new_kid.as_ref(), "the newest key signs");
    // Tokens signed before the rotation still verify against the published keys.
    let mut fresh = jwks(&app).await;
    assert_eq!(fresh.keys.len(), 4, "two key sets: Ed25519 and RSA each");
    for token in &tokens {
        verify(&app, &mut fresh, token).await;
    }
}

#[actix_web::test]
async fn a_retired_key_leaves_the_jwks() {
    let app = spawn_app_with(&[("SIGNING_KEYS_RELOAD", "1s")]).await;
    let access_token_keys = |set: JwkSet| {
        set.keys
            .iter()
            .filter(|k| k.common.key_algorithm == Some(KeyAlgorithm::EdDSA))
            .filter_map(|k| k.common.key_id.clone())
            .collect::<Vec<_>>()
    };
    let old = access_token_keys(jwks(&app).await).remove(0);
    let new = rotate(&app, shared::models::now() - chrono::Duration::seconds(1)).await;
    let mut published = Vec::new();
    for _ in 0..30 {
        published = access_token_keys(jwks(&app).await);
        if published == [new.clone()] {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(published, [new], "only the new key remains; {old} is gone");
}
