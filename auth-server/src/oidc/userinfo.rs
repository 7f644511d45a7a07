//! The UserInfo endpoint (OpenID Connect Core §5.3): the claims about the person an access
//! token was issued for, as far as its scope releases them (Core §5.4). The token must be
//! one we issued, live (unexpired, not revoked, its grant not revoked), for a person, and
//! carry `openid`; a task-API token without `openid` is no userinfo token.

use std::sync::Arc;

use serde::Serialize;
use shared::db::{Db, DbError};
use shared::models::access_token::AccessTokenRecord;
use shared::models::now;
use shared::models::user::User;

use crate::oauth::keys::KeyRing;
use crate::oauth::minting::{TokenPolicy, decode_own_access_token};
use crate::oauth::scope::{OPENID, Scope};

/// Every claim the ID token or userinfo may carry (Discovery §3 `claims_supported`).
pub const CLAIMS_SUPPORTED: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "azp",
    "at_hash",
    "sid",
    "preferred_username",
    "name",
    "email",
    "email_verified",
];

/// The userinfo response (Core §5.3.2). `name` is the username: accounts keep no other
/// name. `email_verified` says whether the address was proven by a link sent to it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct UserInfo {
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

/// Why the token gets no claims (RFC 6750 §3.1).
#[derive(Debug)]
pub enum UserInfoError {
    /// Not one of ours, expired, revoked, or for no person: `invalid_token` (401).
    InvalidToken(&'static str),
    /// Live, but without `openid`: `insufficient_scope` (403).
    InsufficientScope,
    Db(DbError),
}

impl From<DbError> for UserInfoError {
    fn from(error: DbError) -> Self {
        Self::Db(error)
    }
}

/// The claims for `token`, a bearer access token.
pub async fn claims_for(
    db: &Db,
    ring: Arc<KeyRing>,
    policy: &TokenPolicy,
    token: &str,
) -> Result<UserInfo, UserInfoError> {
    let claims = decode_own_access_token(&ring, policy, token, true).ok_or(
        UserInfoError::InvalidToken("the access token is invalid or has expired"),
    )?;
    let jti = claims.jti.clone();
    let (record, user) = db
        .run(move |conn| -> Result<_, DbError> {
            let Some(record) = AccessTokenRecord::find(conn, &jti)? else {
                return Ok((None, None));
            };
            let user = match &record.user_id {
                Some(user_id) => User::find(conn, user_id)?,
                None => None,
            };
            Ok((Some(record), user))
        })
        .await?;
    // Revoking a grant, an app or a session's family revokes its access tokens' rows.
    let record = record
        .filter(|record| record.revoked_at.is_none() && record.expires_at > now())
        .ok_or(UserInfoError::InvalidToken(
            "the access token has been revoked",
        ))?;
    let user = user.ok_or(UserInfoError::InvalidToken(
        "the access token was not issued for a person",
    ))?;
    let scope = Scope::from_stored(&record.scope);
    if !scope.contains(OPENID) {
        return Err(UserInfoError::InsufficientScope);
    }
    let profile = scope.contains("profile");
    let email = scope.contains("email");
    Ok(UserInfo {
        sub: user.id,
        preferred_username: profile.then(|| user.username.clone()),
        name: profile.then_some(user.username),
        email: email.then_some(user.email),
        email_verified: email.then_some(user.email_verified_at.is_some()),
    })
}
