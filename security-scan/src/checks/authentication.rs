//! The task API's door (RFC 6750, RFC 8725 §3.1, RFC 9068 §4): no credentials, malformed
//! and empty tokens, `alg: none`, HS256 signed with the public key, a tampered payload,
//! tokens signed with a key the server does not hold (an unknown `kid`; expired, foreign
//! `aud`/`iss`, wrong `typ` under the real `kid`), other schemes, a token in the query
//! string, and a revoked token — each must be refused with 401.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore as _;
use reqwest::Method;
use serde_json::{Value, json};

use super::Check;
use crate::flows::{self, Tokens};
use crate::probe::{self, Answer};
use crate::report::{CheckResult, Evidence, Severity};
use crate::scan::Scan;

const NO_CREDENTIALS: Check = Check {
    id: "authentication.no_credentials",
    title: "A request without credentials gets 401 with a Bearer challenge",
    severity: Severity::High,
    remediation: "Refuse every protected operation without an Authorization header, with 401 and `WWW-Authenticate: Bearer` (RFC 6750 §3).",
};
const MALFORMED: Check = Check {
    id: "authentication.malformed",
    title: "Empty and malformed bearer tokens are refused",
    severity: Severity::High,
    remediation: "Verify every token with a JOSE library and answer 401 `invalid_token` for anything that does not verify (RFC 6750 §3.1).",
};
const ALG_NONE: Check = Check {
    id: "authentication.alg_none",
    title: "A token with `alg: none` is refused",
    severity: Severity::Critical,
    remediation: "Pin the expected asymmetric algorithm when verifying; never take `alg` from the token (RFC 8725 §3.1).",
};
const HS256_PUBLIC_KEY: Check = Check {
    id: "authentication.hs256_public_key",
    title: "A token signed with HS256 using the public key as the secret is refused",
    severity: Severity::Critical,
    remediation: "Pin the algorithm to the key's type (EdDSA, ES256 …); a public key must never be used as an HMAC secret (RFC 8725 §3.1).",
};
const TAMPERED: Check = Check {
    id: "authentication.tampered",
    title: "A real token with a changed payload is refused",
    severity: Severity::Critical,
    remediation: "Verify the signature over header and payload before reading any claim.",
};
const UNKNOWN_KID: Check = Check {
    id: "authentication.unknown_kid",
    title: "A token signed by an unknown key is refused",
    severity: Severity::Critical,
    remediation: "Accept only keys published in the issuer's JWKS, looked up by `kid`; refetch the JWKS at most once a second for an unknown `kid`.",
};
const FOREIGN_CLAIMS: Check = Check {
    id: "authentication.claims",
    title: "Tokens that are expired, for another audience or issuer, or of another typ are refused",
    severity: Severity::High,
    remediation: "Check `exp`, `nbf`, `iss`, `aud` and `typ: at+jwt` on every token (RFC 9068 §4). (Black-box, these tokens carry the real `kid` but a signature the server cannot verify.)",
};
const OTHER_SCHEME: Check = Check {
    id: "authentication.other_scheme",
    title: "Credentials in other schemes (Basic, a bare token) are refused",
    severity: Severity::High,
    remediation: "Accept only `Authorization: Bearer <token>` (RFC 6750 §2.1).",
};
const QUERY_TOKEN: Check = Check {
    id: "authentication.query_token",
    title: "An access token in the query string is refused",
    severity: Severity::Medium,
    remediation: "Read bearer tokens from the Authorization header only: URLs end up in logs, history and Referer headers (RFC 6750 §5.3, RFC 9700 §4.3).",
};
const REVOKED: Check = Check {
    id: "authentication.revoked",
    title: "A revoked access token is refused within two seconds",
    severity: Severity::High,
    remediation: "Mirror the revocation list in the resource server and refuse a revoked token until its exp plus the allowed clock skew (RFC 7009 §2).",
};

/// A protected read of the task API: the first GET without path parameters in the OpenAPI
/// document that refuses a request without credentials (401), or `/api/tasks`.
async fn protected_path(scan: &Scan) -> String {
    let candidates: Vec<String> = scan
        .openapi
        .as_ref()
        .and_then(|doc| doc.get("paths")?.as_object().cloned())
        .map(|paths| {
            paths
                .iter()
                .filter(|(path, item)| item.get("get").is_some() && !path.contains('{'))
                .map(|(path, _)| path.clone())
                .collect()
        })
        .unwrap_or_default();
    for path in candidates {
        if call(scan, &path, None, "which operations need credentials")
            .await
            .is_some_and(|a| a.status == 401)
        {
            return path;
        }
    }
    "/api/tasks".to_owned()
}

async fn call(scan: &Scan, path: &str, authorization: Option<&str>, note: &str) -> Option<Answer> {
    let url = scan.api_url(path);
    let mut request = scan.plain.get(&url);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    probe::send(&scan.redactor, &Method::GET, &url, note, request)
        .await
        .ok()
}

fn accepted(answer: &Answer) -> bool {
    answer.status.is_success()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// The real token's header and claims, decoded without verification (to copy them).
fn parts(token: &str) -> Option<(Value, Value)> {
    let mut pieces = token.split('.');
    let decode = |piece: Option<&str>| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(piece?).ok()?).ok()
    };
    Some((decode(pieces.next())?, decode(pieces.next())?))
}

/// Claims a verifier would otherwise accept: copied from a real token, or made up.
fn plausible_claims(scan: &Scan, real: Option<&Value>) -> Value {
    real.cloned().unwrap_or_else(|| {
        let now = now();
        json!({
            "iss": scan.metadata["issuer"],
            "sub": "security-scan",
            "aud": scan.options.api.as_str().trim_end_matches('/'),
            "client_id": "security-scan",
            "scope": "tasks:read tasks:write",
            "iat": now,
            "exp": now + 600,
            "jti": flows::random_marker("jti-"),
        })
    })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// A fresh Ed25519 key the server has never seen.
fn foreign_key() -> Option<EncodingKey> {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let der = SigningKey::from_bytes(&seed).to_pkcs8_der().ok()?;
    Some(EncodingKey::from_ed_der(der.as_bytes()))
}

fn sign(header: Header, claims: &Value, key: &EncodingKey) -> Option<String> {
    jsonwebtoken::encode(&header, claims, key).ok()
}

/// Sends each `(what, Authorization value)`; every one accepted is a failure.
async fn refused_all(
    scan: &Scan,
    path: &str,
    check: Check,
    attempts: Vec<(String, String)>,
) -> CheckResult {
    let mut failures: Vec<(String, Evidence)> = Vec::new();
    for (what, value) in attempts {
        if let Some(answer) = call(scan, path, Some(&value), &what).await
            && (accepted(&answer) || answer.status.is_server_error())
        {
            failures.push((
                format!("{what}: answered {}", answer.status),
                answer.evidence,
            ));
        }
    }
    check.judge(failures)
}

pub async fn run(scan: &Scan) -> Vec<CheckResult> {
    let path = protected_path(scan).await;
    let mut results = Vec::new();

    results.push(match call(scan, &path, None, "no credentials").await {
        Some(answer)
            if answer.status == 401
                && answer
                    .header("www-authenticate")
                    .is_some_and(|c| c.starts_with("Bearer")) =>
        {
            NO_CREDENTIALS.pass()
        }
        Some(answer) => NO_CREDENTIALS.fail(
            format!("answered {} without a Bearer challenge", answer.status),
            vec![answer.evidence],
        ),
        None => NO_CREDENTIALS.skip(format!("{} did not answer", scan.api_url(&path))),
    });
    results.push(
        refused_all(
            scan,
            &path,
            MALFORMED,
            [
                "Bearer",
                "Bearer ",
                "Bearer x",
                "Bearer a.b.c",
                "Bearer ..",
                "Bearer e30.e30.",
                "Bearer \u{7f}",
            ]
            .iter()
            .map(|v| ((*v).to_owned(), (*v).to_owned()))
            .collect(),
        )
        .await,
    );

    // A real token, if the operator gave what the flow needs: the control the rest needs.
    let real: Option<Tokens> = match flows::user_tokens(scan, "tasks:read tasks:write").await {
        Ok((_, tokens)) => match call(
            scan,
            &path,
            Some(&format!("Bearer {}", tokens.access_token)),
            "a real token",
        )
        .await
        {
            Some(answer) if accepted(&answer) => Some(tokens),
            _ => None,
        },
        Err(_) => None,
    };
    let real_parts = real.as_ref().and_then(|t| parts(&t.access_token));
    let real_kid = real_parts
        .as_ref()
        .and_then(|(h, _)| h["kid"].as_str().map(str::to_owned));
    let claims = plausible_claims(scan, real_parts.as_ref().map(|(_, c)| c));

    let none_header = json!({ "alg": "none", "typ": "at+jwt", "kid": real_kid });
    results.push(
        refused_all(
            scan,
            &path,
            ALG_NONE,
            vec![
                (
                    "alg none, no signature".into(),
                    format!("Bearer {}.{}.", b64(&none_header), b64(&claims)),
                ),
                (
                    "alg None".into(),
                    format!(
                        "Bearer {}.{}.",
                        b64(&json!({"alg": "None", "typ": "at+jwt"})),
                        b64(&claims)
                    ),
                ),
            ],
        )
        .await,
    );

    results.push(hs256_with_public_key(scan, &path, &claims, real_kid.as_deref()).await);

    results.push(match &real {
        Some(tokens) => {
            let pieces: Vec<&str> = tokens.access_token.split('.').collect();
            let mut changed = claims.clone();
            changed["sub"] = json!("someone-else");
            changed["scope"] = json!("tasks:read tasks:write admin");
            let tampered = format!("Bearer {}.{}.{}", pieces.first().unwrap_or(&""), b64(&changed), pieces.get(2).unwrap_or(&""));
            refused_all(scan, &path, TAMPERED, vec![("payload changed, signature kept".into(), tampered)]).await
        }
        None => TAMPERED.skip("needs a real token: --client-id, --client-secret, --redirect-uri, --username, --password"),
    });

    let Some(foreign) = foreign_key() else {
        results.push(UNKNOWN_KID.skip("could not make a key"));
        return results;
    };
    let header = |kid: Option<&str>, typ: &str| {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = kid.map(str::to_owned);
        header.typ = Some(typ.to_owned());
        header
    };
    let unknown = sign(
        header(Some("security-scan-unknown-kid"), "at+jwt"),
        &claims,
        &foreign,
    );
    results.push(
        refused_all(
            scan,
            &path,
            UNKNOWN_KID,
            unknown
                .into_iter()
                .map(|t| ("unknown kid".to_owned(), format!("Bearer {t}")))
                .collect(),
        )
        .await,
    );

    let mut variants = Vec::new();
    let mut expired = claims.clone();
    expired["exp"] = json!(now() - 3600);
    expired["iat"] = json!(now() - 7200);
    variants.push(("expired", expired, "at+jwt"));
    let mut audience = claims.clone();
    audience["aud"] = json!("https://another-api.invalid");
    variants.push(("another audience", audience, "at+jwt"));
    let mut issuer = claims.clone();
    issuer["iss"] = json!("https://another-issuer.invalid");
    variants.push(("another issuer", issuer, "at+jwt"));
    variants.push(("typ JWT", claims.clone(), "JWT"));
    let attempts = variants
        .into_iter()
        .filter_map(|(what, claims, typ)| {
            sign(header(real_kid.as_deref(), typ), &claims, &foreign)
                .map(|t| (what.to_owned(), format!("Bearer {t}")))
        })
        .collect();
    results.push(refused_all(scan, &path, FOREIGN_CLAIMS, attempts).await);

    let basic = STANDARD.encode("security-scan:password");
    let mut schemes = vec![("Basic".to_owned(), format!("Basic {basic}"))];
    if let Some(tokens) = &real {
        schemes.push((
            "the token without a scheme".into(),
            tokens.access_token.clone(),
        ));
        schemes.push((
            "scheme Token".into(),
            format!("Token {}", tokens.access_token),
        ));
    }
    results.push(refused_all(scan, &path, OTHER_SCHEME, schemes).await);

    results.push(match &real {
        Some(tokens) => query_token(scan, &path, tokens).await,
        None => QUERY_TOKEN.skip("needs a real token"),
    });
    results.push(match &real {
        Some(tokens) => revoked(scan, &path, tokens).await,
        None => REVOKED.skip("needs a real token"),
    });
    results
}

async fn hs256_with_public_key(
    scan: &Scan,
    path: &str,
    claims: &Value,
    kid: Option<&str>,
) -> CheckResult {
    let jwks_url = scan.endpoint("jwks_uri", "/jwks.json");
    let Ok(answer) = scan.get(&scan.plain, &jwks_url, "JWKS").await else {
        return HS256_PUBLIC_KEY.skip("the JWKS could not be read");
    };
    let Some(keys) = answer.json().and_then(|j| j["keys"].as_array().cloned()) else {
        return HS256_PUBLIC_KEY.skip("the JWKS has no keys");
    };
    let mut attempts = Vec::new();
    for key in &keys {
        let mut secrets: Vec<Vec<u8>> = vec![key.to_string().into_bytes()];
        if let Some(x) = key["x"].as_str() {
            secrets.push(x.as_bytes().to_vec());
            if let Ok(raw) = URL_SAFE_NO_PAD.decode(x) {
                secrets.push(raw);
            }
        }
        for secret in secrets {
            let mut header = Header::new(Algorithm::HS256);
            header.typ = Some("at+jwt".into());
            header.kid = key["kid"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| kid.map(str::to_owned));
            if let Some(token) = sign(header, claims, &EncodingKey::from_secret(&secret)) {
                attempts.push((
                    "HS256 with the public key".to_owned(),
                    format!("Bearer {token}"),
                ));
            }
        }
    }
    refused_all(scan, path, HS256_PUBLIC_KEY, attempts).await
}

async fn query_token(scan: &Scan, path: &str, tokens: &Tokens) -> CheckResult {
    let separator = if path.contains('?') { '&' } else { '?' };
    let query_path = format!("{path}{separator}access_token={}", tokens.access_token);
    match call(scan, &query_path, None, "token in the query string").await {
        Some(answer) if accepted(&answer) => QUERY_TOKEN.fail(
            "the token in ?access_token= was accepted",
            vec![answer.evidence],
        ),
        Some(_) => QUERY_TOKEN.pass(),
        None => QUERY_TOKEN.skip("the task API did not answer"),
    }
}

async fn revoked(scan: &Scan, path: &str, tokens: &Tokens) -> CheckResult {
    let Some(client) = &scan.options.client else {
        return REVOKED.skip("needs --client-id and --client-secret");
    };
    let revoke = scan.endpoint("revocation_endpoint", "/revoke");
    if scan
        .post_as_client(
            client,
            &revoke,
            &[("token", &tokens.access_token)],
            "revoke",
        )
        .await
        .is_err()
    {
        return REVOKED.skip("the revocation endpoint did not answer");
    }
    let bearer = format!("Bearer {}", tokens.access_token);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let Some(answer) = call(scan, path, Some(&bearer), "revoked token").await else {
            return REVOKED.skip("the task API did not answer");
        };
        if !accepted(&answer) {
            return REVOKED.pass();
        }
        if std::time::Instant::now() > deadline {
            return REVOKED.fail(
                "still accepted two seconds after its revocation",
                vec![answer.evidence],
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
