//! The full check of an access token, free of state: the header first (SECURITY.md 18:
//! `alg` pinned to EdDSA, `typ` at+jwt, a `kid`), then, with the key that `kid` names, the
//! signature and the claims (RFC 9068 §4: `iss`, `aud`, `exp`, `nbf`). `verify` in the
//! parent module looks the key up in the JWKS between the two; the fuzz targets call both
//! with a fixed key.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use shared::claims::{ACCESS_TOKEN_TYPE, AccessTokenClaims};

use super::{AuthError, Authenticated, Via};

/// What the full check of a token establishes.
#[derive(Debug, Clone)]
pub struct CheckedToken {
    pub caller: Authenticated,
    pub jti: String,
    pub kid: String,
    pub exp: i64,
}

/// The `kid` of a token whose header is one of ours; nothing in it is trusted beyond that.
pub fn read_header(token: &str) -> Result<String, AuthError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| AuthError::InvalidToken("malformed token"))?;
    // SECURITY.md 18: the algorithm is ours to choose, never the token's.
    if header.alg != Algorithm::EdDSA {
        return Err(AuthError::InvalidToken("unexpected algorithm"));
    }
    // RFC 9068 §4: a JWT of another type is not an access token, whoever signed it.
    if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
        return Err(AuthError::InvalidToken("not an access token"));
    }
    header.kid.ok_or(AuthError::InvalidToken("no key id"))
}

/// The signature (with `key`, the one `kid` names) and the claims, as `validation` says.
pub fn check(
    token: &str,
    kid: String,
    key: &DecodingKey,
    validation: &Validation,
) -> Result<CheckedToken, AuthError> {
    let claims = jsonwebtoken::decode::<AccessTokenClaims>(token, key, validation)
        .map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                AuthError::InvalidToken("the token has expired")
            }
            jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                AuthError::InvalidToken("the token is for another audience")
            }
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                AuthError::InvalidToken("the token is from another issuer")
            }
            jsonwebtoken::errors::ErrorKind::ImmatureSignature => {
                AuthError::InvalidToken("the token is not valid yet")
            }
            _ => AuthError::InvalidToken("the signature or claims do not verify"),
        })?
        .claims;
    let caller = Authenticated {
        subject: claims.sub,
        client_id: claims.client_id,
        scopes: claims.scope.split(' ').map(str::to_owned).collect(),
        via: Via::AccessToken,
    };
    Ok(CheckedToken {
        caller,
        jti: claims.jti,
        kid,
        exp: claims.exp,
    })
}
