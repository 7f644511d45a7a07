//! The claims of an access token: a JWT per RFC 9068 (header `typ: at+jwt`), signed by the
//! authorization server and verified by the task API.

use serde::{Deserialize, Serialize};

/// RFC 9068 §2.1: the JWT `typ` header value of an access token.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// RFC 9068 §2.2 claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The authorization server (`ISSUER`).
    pub iss: String,
    /// The user's id; the client's id for a token with no user.
    pub sub: String,
    /// The task API (`RESOURCE_API_URL`).
    pub aud: String,
    pub client_id: String,
    /// Space-separated scopes.
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    /// The token's id: what revocation records.
    pub jti: String,
}
