//! What the task API's handlers can reach.

use shared::db::Db;

use crate::auth::jwks::JwksCache;
use crate::auth::revocations::RevocationList;
use crate::auth::verified::VerifiedTokens;

#[derive(Debug)]
pub struct ApiState {
    pub db: Db,
    pub jwks: JwksCache,
    pub revocations: RevocationList,
    pub verified: VerifiedTokens,
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The `aud` every token must carry: this API's URL.
    pub audience: String,
}
