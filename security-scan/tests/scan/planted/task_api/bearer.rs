//! How the planted task API reads and verifies access tokens (RFC 6750, RFC 9068): a
//! hand-written verifier with the mistakes real ones have had, one per layer.

use std::collections::HashSet;
use std::sync::Mutex;

use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Verifier as _;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Value, json};

use crate::planted::state::State;
use crate::planted::values::now;

/// Who is calling, from a token that got through.
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject: String,
    /// The client the token was issued to.
    pub client_id: String,
    pub scopes: Vec<String>,
}

impl Caller {
    /// 403 `insufficient_scope` unless the token has `scope` (RFC 6750 §3.1).
    pub fn require(&self, scope: &str) -> Result<(), HttpResponse> {
        if self.scopes.iter().any(|s| s == scope) {
            return Ok(());
        }
        Err(HttpResponse::Forbidden()
            .insert_header((
                "WWW-Authenticate",
                format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
            ))
            .json(json!({ "error": "insufficient_scope" })))
    }
}

/// Signatures already checked, by token id.
#[derive(Debug, Default)]
pub struct Verifier {
    verified_jtis: Mutex<HashSet<String>>,
}

enum Refusal {
    /// No token at all.
    Missing,
    /// A token that does not verify.
    Invalid,
    /// A token that could not even be decoded.
    Broken,
}

impl Refusal {
    fn answer(&self) -> HttpResponse {
        match self {
            // PLANTED authentication.no_credentials: 401, but no `WWW-Authenticate: Bearer`
            // challenge (RFC 6750 §3).
            Self::Missing => HttpResponse::Unauthorized().json(json!({ "error": "unauthorized" })),
            Self::Invalid => HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer error=\"invalid_token\""))
                .json(json!({ "error": "invalid_token" })),
            // PLANTED authentication.malformed: "a token we cannot decode is a bug", so
            // decoding errors escape as 500 instead of 401 invalid_token.
            Self::Broken => {
                HttpResponse::InternalServerError().json(json!({ "error": "internal_error" }))
            }
        }
    }
}

/// The token of a request.
fn token_of(request: &HttpRequest) -> Option<String> {
    // PLANTED authentication.query_token: `?access_token=` is read too, "for EventSource,
    // which cannot set headers" (RFC 6750 §5.3: URLs end up in logs).
    if let Some(token) = url::form_urlencoded::parse(request.query_string().as_bytes())
        .find(|(name, _)| name == "access_token")
        .map(|(_, value)| value.into_owned())
    {
        return Some(token);
    }
    // PLANTED authentication.other_scheme: the token is "the last word" of the header,
    // whatever the scheme — `Token x`, a bare `x` and `Basic x` all count.
    let header = request.headers().get("authorization")?.to_str().ok()?;
    header.split_whitespace().last().map(str::to_owned)
}

fn decode_json(part: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

impl Verifier {
    /// The caller, or the answer refusing the request.
    pub fn authenticate(
        &self,
        request: &HttpRequest,
        state: &State,
    ) -> Result<Caller, HttpResponse> {
        let token = token_of(request)
            .ok_or(Refusal::Missing)
            .map_err(|r| r.answer())?;
        let claims = self.verify(state, &token).map_err(|r| r.answer())?;
        Ok(Caller {
            subject: claims["sub"].as_str().unwrap_or_default().to_owned(),
            client_id: claims["client_id"].as_str().unwrap_or_default().to_owned(),
            scopes: claims["scope"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        })
    }

    fn verify(&self, state: &State, token: &str) -> Result<Value, Refusal> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::Broken);
        };
        let head = decode_json(header).ok_or(Refusal::Broken)?;
        let claims = decode_json(payload).ok_or(Refusal::Broken)?;
        let message = format!("{header}.{payload}");
        match head["alg"].as_str().map(str::to_ascii_lowercase).as_deref() {
            // PLANTED authentication.alg_none: the algorithm is taken from the token, and
            // `none` means "nothing to verify" (RFC 8725 §3.1).
            Some("none") => {}
            // PLANTED authentication.hs256_public_key: HS256, "for internal callers", is
            // verified with the only key there is — the public one — as the HMAC secret.
            Some("hs256") => {
                let key = DecodingKey::from_secret(&state.signer.public_key());
                if !jsonwebtoken::crypto::verify(
                    signature,
                    message.as_bytes(),
                    &key,
                    Algorithm::HS256,
                )
                .unwrap_or(false)
                {
                    return Err(Refusal::Invalid);
                }
            }
            Some("eddsa") => self.verify_eddsa(state, &head, &claims, &message, signature)?,
            _ => return Err(Refusal::Invalid),
        }
        // PLANTED authentication.claims: only the expiry is checked; `aud`, `iss` and `typ`
        // are never looked at (RFC 9068 §4).
        if claims["exp"].as_i64().is_none_or(|exp| exp <= now()) {
            return Err(Refusal::Invalid);
        }
        // PLANTED authentication.revoked: verification is stateless; what the
        // authorization server revoked is never asked for, so a revoked token works until
        // it expires.
        Ok(claims)
    }

    fn verify_eddsa(
        &self,
        state: &State,
        head: &Value,
        claims: &Value,
        message: &str,
        signature: &str,
    ) -> Result<(), Refusal> {
        // PLANTED authentication.unknown_kid: an unknown `kid` is "a key we have not
        // fetched yet", let through rather than lock people out during a key rotation.
        if head["kid"].as_str() != Some(state.signer.kid.as_str()) {
            return Ok(());
        }
        let jti = claims["jti"].as_str().unwrap_or_default().to_owned();
        let mut verified = self.verified_jtis.lock().expect("cache lock");
        // PLANTED authentication.tampered, authentication.claims: verifications are
        // cached by `jti` ("token ids are unique"), so a token that reuses a verified
        // token's id is let through unverified, whatever else it changed.
        if verified.contains(&jti) {
            return Ok(());
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .and_then(|raw| ed25519_dalek::Signature::from_slice(&raw).ok())
            .ok_or(Refusal::Invalid)?;
        state
            .signer
            .verifying_key()
            .verify(message.as_bytes(), &signature)
            .map_err(|_| Refusal::Invalid)?;
        verified.insert(jti);
        Ok(())
    }
}
