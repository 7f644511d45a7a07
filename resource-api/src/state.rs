//! What the task API's handlers can reach.

use shared::db::Db;
use shared::ratelimit::Limiter;

use crate::auth::jwks::JwksCache;
use crate::auth::revocations::RevocationList;
use crate::auth::verified::VerifiedTokens;

#[derive(Debug)]
pub struct ApiState {
    pub db: Db,
    pub jwks: JwksCache,
    pub revocations: RevocationList,
    pub verified: VerifiedTokens,
    /// How access tokens are checked: our `iss`, this API's URL as `aud`, EdDSA only.
    pub validation: jsonwebtoken::Validation,
    pub limiter: Limiter,
    /// Whether `X-Forwarded-For` names the client (for per-IP limits).
    pub trust_proxy_headers: bool,
}
