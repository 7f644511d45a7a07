//! ID tokens (OpenID Connect Core §2): who signed in, for which client, when and how. Built
//! inside the token grant's transaction from what the code or grant recorded, and signed
//! after it commits — an RSA signature is costly, and no database lock waits on it.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use serde::Serialize;
use sha2::{Digest, Sha256, Sha512};

use shared::models::client::Client;

use crate::oauth::keys::{KeyAlgorithm, KeyRing, SignError};
use crate::oauth::minting::{IssueError, TokenPolicy, TokenResponse};

/// RFC 8176 §2 `pwd`: every sign-in starts with the password.
const AMR_PASSWORD: &str = "pwd";
/// RFC 8176 §2 `otp`: a one-time password (a TOTP code, or a recovery code in its place).
const AMR_ONE_TIME_PASSWORD: &str = "otp";

/// The claims of an ID token (Core §2; `sid` from Back-Channel Logout §2.1). `Debug` is
/// derived: none of them is a secret (`at_hash` is half a hash of the access token).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IdTokenClaims {
    pub iss: String,
    /// The user's id: stable, never reassigned (Core §8, public subject type).
    pub sub: String,
    /// The client alone, so no `azp` is needed; it is sent anyway (Core §2 allows it).
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    /// When the person signed in to the session that approved the request (Core §2).
    pub auth_time: i64,
    /// The authorization request's `nonce`, exactly (Core §3.1.2.1); never on a refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub amr: Vec<&'static str>,
    pub azp: String,
    /// Core §3.1.3.6: binds the access token issued with this ID token.
    pub at_hash: String,
    /// The session's public id (Back-Channel Logout §2.1), for logout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// An ID token to sign once the transaction that issued its tokens has committed.
#[derive(Debug, Clone)]
pub struct UnsignedIdToken {
    pub alg: KeyAlgorithm,
    pub claims: IdTokenClaims,
}

/// What an ID token says about the authorization it comes from.
#[derive(Debug, Clone)]
pub struct Authentication<'a> {
    pub user_id: &'a str,
    pub client_id: &'a str,
    pub auth_time: NaiveDateTime,
    pub nonce: Option<&'a str>,
    pub session_id: Option<&'a str>,
    /// Whether the sign-in included the second factor (TOTP or a recovery code).
    pub second_factor: bool,
}

impl UnsignedIdToken {
    /// The ID token issued at `at` beside `access_token`, valid `ttl`, signed with `alg`.
    pub fn new(
        issuer: &str,
        authentication: &Authentication<'_>,
        alg: KeyAlgorithm,
        access_token: &str,
        at: NaiveDateTime,
        ttl: chrono::Duration,
    ) -> Self {
        let claims = IdTokenClaims {
            iss: issuer.to_owned(),
            sub: authentication.user_id.to_owned(),
            aud: authentication.client_id.to_owned(),
            exp: (at + ttl).and_utc().timestamp(),
            iat: at.and_utc().timestamp(),
            auth_time: authentication.auth_time.and_utc().timestamp(),
            nonce: authentication.nonce.map(str::to_owned),
            amr: if authentication.second_factor {
                vec![AMR_PASSWORD, AMR_ONE_TIME_PASSWORD]
            } else {
                vec![AMR_PASSWORD]
            },
            azp: authentication.client_id.to_owned(),
            at_hash: at_hash(alg, access_token),
            sid: authentication.session_id.map(str::to_owned),
        };
        Self { alg, claims }
    }

    /// The ID token for `client` beside `access_token`, issued at `at` under `policy`: the
    /// algorithm the client registered, valid as long as the access token.
    pub fn for_client(
        policy: &TokenPolicy,
        client: &Client,
        authentication: &Authentication<'_>,
        access_token: &str,
        at: NaiveDateTime,
    ) -> Self {
        Self::new(
            &policy.issuer,
            authentication,
            client_alg(client),
            access_token,
            at,
            policy.access_token_ttl,
        )
    }

    pub fn sign(&self, ring: &KeyRing) -> Result<String, SignError> {
        ring.id_token_signer(self.alg).sign(&self.claims)
    }

    /// Signs an RSA token off the async worker: its signature (0.2–0.4 ms) there would
    /// hold up every other request the worker serves, and with them the commits they would
    /// have shared (measured: the code flow's CPU per request doubled on SQLite). An
    /// Ed25519 signature (6 µs) costs less than the hop to another thread: it is made here.
    pub async fn sign_off_the_worker(self, ring: Arc<KeyRing>) -> Result<String, SignError> {
        if self.alg == KeyAlgorithm::EdDSA {
            return self.sign(&ring);
        }
        actix_web::rt::task::spawn_blocking(move || self.sign(&ring))
            .await
            .map_err(|_| SignError::from_message("the signing thread stopped"))?
    }
}

/// Core §3.1.3.6: the base64url of the left half of the hash of the access token's ASCII,
/// with the hash of the ID token's `alg` — SHA-256 for RS256, SHA-512 for EdDSA with
/// Ed25519 (whose signature uses SHA-512; as the OpenID Foundation's libraries compute it).
pub fn at_hash(alg: KeyAlgorithm, access_token: &str) -> String {
    match alg {
        KeyAlgorithm::RS256 => {
            let digest = Sha256::digest(access_token.as_bytes());
            URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
        }
        KeyAlgorithm::EdDSA => {
            let digest = Sha512::digest(access_token.as_bytes());
            URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
        }
    }
}

/// Adds the signed `id_token`, if any, to a response whose tokens have been committed.
pub async fn with_id_token(
    mut response: TokenResponse,
    id_token: Option<UnsignedIdToken>,
    ring: Arc<KeyRing>,
) -> Result<TokenResponse, IssueError> {
    if let Some(id_token) = id_token {
        response.id_token = Some(id_token.sign_off_the_worker(ring).await?);
    }
    Ok(response)
}

/// The signing algorithm a client registered for its ID tokens (RS256 if unreadable).
pub fn client_alg(client: &Client) -> KeyAlgorithm {
    KeyAlgorithm::parse(&client.id_token_signed_response_alg).unwrap_or(KeyAlgorithm::RS256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_openid_connect_example() {
        // Core A.3 / A.4: the access token and the at_hash of its RS256 ID token.
        assert_eq!(
            at_hash(
                KeyAlgorithm::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(at_hash(KeyAlgorithm::EdDSA, "token").len(), 43, "32 bytes");
    }

    #[test]
    fn claims_carry_the_authentication_and_no_nonce_unless_sent() {
        let at = shared::models::now();
        let authentication = Authentication {
            user_id: "user-1",
            client_id: "client-1",
            auth_time: at - chrono::Duration::minutes(5),
            nonce: None,
            session_id: Some("session-1"),
            second_factor: false,
        };
        let token = UnsignedIdToken::new(
            "https://issuer.example",
            &authentication,
            KeyAlgorithm::RS256,
            "access",
            at,
            chrono::Duration::minutes(10),
        );
        let json = serde_json::to_value(&token.claims).unwrap();
        assert!(json.get("nonce").is_none());
        assert_eq!(json["sub"], "user-1");
        assert_eq!(json["aud"], "client-1");
        assert_eq!(json["azp"], "client-1");
        assert_eq!(json["amr"], serde_json::json!(["pwd"]));
        assert_eq!(json["sid"], "session-1");
        assert_eq!(
            json["exp"].as_i64().unwrap() - json["iat"].as_i64().unwrap(),
            600
        );
        assert_eq!(
            json["iat"].as_i64().unwrap() - json["auth_time"].as_i64().unwrap(),
            300
        );
    }
}
