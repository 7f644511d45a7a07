//! The claims of an access token: a JWT per RFC 9068 (header `typ: at+jwt`), signed by the
//! authorization server and verified by the task API.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// RFC 9068 §2.1: the JWT `typ` header value of an access token.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The `typ` of an OpenID Connect ID token (and of a back-channel logout token's JWT):
/// plain `JWT`, which the task API never accepts in place of `at+jwt` (RFC 9068 §4).
pub const ID_TOKEN_TYPE: &str = "JWT";

/// The clock skew a verifier allows on `exp` and `nbf`: RFC 6750 §2.1 leaves it to us;
/// SECURITY.md 18 caps it at 60 s. Whatever must hold for as long as a token is accepted
/// (its revocation above all) is kept this much past `exp`.
pub const LEEWAY_SECONDS: u64 = 60;

/// The earliest expiry of a token some verifier may still accept at `at`: `exp` is compared
/// in whole seconds with the leeway added (a token passes while the current second is at
/// most `exp + leeway`), so one second more. A token that expired before this is refused
/// everywhere, and its revocation can be forgotten.
pub fn accepted_expiry_floor(at: NaiveDateTime) -> NaiveDateTime {
    let leeway = chrono::Duration::seconds(LEEWAY_SECONDS as i64 + 1);
    at.checked_sub_signed(leeway).unwrap_or(NaiveDateTime::MIN)
}

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
