//! JWTs: verifying an access token the way a resource server does, getting one for a new
//! user through the real flow, and signing tokens of our own with the server's key (or
//! another) to see what the task API makes of them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use shared::schema::signing_keys;

use super::browser::location;
use super::oauth_client::{ClientOptions, authorize_path, pkce, query_param};
use super::servers::{TestApp, TestStack};

impl TestApp {
    /// Verifies an access token against the published JWKS, as a resource server would.
    pub async fn verify_access_token(&self, token: &str) -> serde_json::Value {
        let header = jsonwebtoken::decode_header(token).expect("JWT header");
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
        let kid = header.kid.expect("kid");
        let jwks: jsonwebtoken::jwk::JwkSet = self
            .visitor()
            .get("/jwks.json")
            .await
            .json()
            .await
            .expect("JWKS");
        let jwk = jwks.find(&kid).expect("the token's kid is published");
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("usable JWK");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.set_audience(&["http://127.0.0.1:8081"]);
        validation.set_issuer(&["http://127.0.0.1:8080"]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
            .expect("the token verifies")
            .claims
    }
}

/// An access token of a new user for `scope`, through the real flow.
pub async fn user_token(stack: &TestStack, scope: &str) -> String {
    let client = stack.auth.register_client(ClientOptions::default()).await;
    let username = format!("user{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let user = stack.auth.signed_in_user(&username).await;
    let p = pkce();
    let path = authorize_path(&[
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("scope", scope),
        ("code_challenge", &p.challenge),
        ("code_challenge_method", "S256"),
    ]);
    let code = query_param(&location(&user.authorize(&path, "allow").await), "code").unwrap();
    let tokens: serde_json::Value = stack
        .auth
        .exchange_code(&client, &code, Some(&p.verifier))
        .await
        .json()
        .await
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// The access-token signing key as stored (development keeps it unencrypted) and its kid.
pub async fn signing_key(stack: &TestStack) -> (EncodingKey, String) {
    let (kid, private_key): (String, String) = stack
        .auth
        .query(|c| {
            signing_keys::table
                .filter(signing_keys::alg.eq("EdDSA"))
                .select((signing_keys::kid, signing_keys::private_key))
                .first(c)
        })
        .await;
    let der = STANDARD
        .decode(private_key.strip_prefix("plain:").unwrap())
        .unwrap();
    (EncodingKey::from_ed_der(&der), kid)
}

pub fn claims(overrides: serde_json::Value) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": "http://127.0.0.1:8080", "sub": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "aud": "http://127.0.0.1:8081", "client_id": "client_x", "scope": "tasks:read tasks:write",
        "iat": now, "exp": now + 600, "jti": uuid::Uuid::new_v4().to_string(),
    });
    for (key, value) in overrides.as_object().unwrap() {
        claims[key] = value.clone();
    }
    claims
}

pub fn sign(key: &EncodingKey, kid: &str, claims: &serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// A JWT's claims, read without verifying anything: for tests that check a value of a token
/// whose validation another test covers.
pub fn unverified_claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT has claims");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url claims");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
