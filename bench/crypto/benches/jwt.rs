//! Signing and verifying an RFC 9068 access token with ES256 and with EdDSA (Ed25519),
//! as auth-server signs and resource-api verifies: the encoding and decoding keys are
//! built once, then reused for every token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::pkcs8::EncodePrivateKey as _;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    client_id: String,
    scope: String,
    iat: i64,
    exp: i64,
    jti: String,
}

fn claims() -> Claims {
    Claims {
        iss: "https://auth.example.com".into(),
        sub: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        aud: "https://api.example.com".into(),
        client_id: "client_Xy3kP9qLm2Rt8vWn4bZc1d".into(),
        scope: "tasks:read tasks:write".into(),
        iat: 1_790_000_000,
        exp: 4_102_444_800,
        jti: "5f0c2b1e-8d3a-4f6b-9c2d-1e0f3a4b5c6d".into(),
    }
}

fn seed() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

fn eddsa_keys() -> (EncodingKey, DecodingKey) {
    let key = ed25519_dalek::SigningKey::from_bytes(&seed());
    let der = key.to_pkcs8_der().expect("pkcs8");
    let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    (EncodingKey::from_ed_der(der.as_bytes()), DecodingKey::from_ed_components(&x).expect("x"))
}

fn es256_keys() -> (EncodingKey, DecodingKey) {
    let key = p256::ecdsa::SigningKey::from_slice(&seed()).expect("scalar");
    let der = key.to_pkcs8_der().expect("pkcs8");
    let point = key.verifying_key().to_encoded_point(false);
    let x = URL_SAFE_NO_PAD.encode(point.x().expect("x"));
    let y = URL_SAFE_NO_PAD.encode(point.y().expect("y"));
    (EncodingKey::from_ec_der(der.as_bytes()), DecodingKey::from_ec_components(&x, &y).expect("xy"))
}

fn bench_algorithm(c: &mut Criterion, name: &str, algorithm: Algorithm, (encoding, decoding): (EncodingKey, DecodingKey)) {
    let mut header = Header::new(algorithm);
    header.typ = Some("at+jwt".into());
    header.kid = Some("kid-1".into());
    let claims = claims();
    c.bench_function(&format!("{name}/sign"), |b| {
        b.iter(|| jsonwebtoken::encode(&header, &claims, &encoding).expect("sign"))
    });
    let token = jsonwebtoken::encode(&header, &claims, &encoding).expect("sign");
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&["https://api.example.com"]);
    validation.set_issuer(&["https://auth.example.com"]);
    c.bench_function(&format!("{name}/verify"), |b| {
        b.iter(|| jsonwebtoken::decode::<Claims>(&token, &decoding, &validation).expect("verify"))
    });
}

fn jwt(c: &mut Criterion) {
    bench_algorithm(c, "EdDSA", Algorithm::EdDSA, eddsa_keys());
    bench_algorithm(c, "ES256", Algorithm::ES256, es256_keys());
}

criterion_group!(benches, jwt);
criterion_main!(benches);
