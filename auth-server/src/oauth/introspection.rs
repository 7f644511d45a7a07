//! Token introspection (RFC 7662). Only an authenticated confidential client may ask
//! (§2.1: the endpoint requires authorization; a public client's id proves nothing, so
//! anyone could ask in its name): it may introspect its own tokens, and a registered
//! resource server any. Anything not active — unknown, malformed, expired,
//! revoked, spent, or not visible to the caller — is `{"active": false}` and nothing else
//! (§2.2), so the answer reveals nothing about other clients' tokens.

use std::sync::Arc;

use serde::Serialize;
use shared::db::{Db, DbError};
use shared::models::access_token::AccessTokenRecord;
use shared::models::client::Client;
use shared::models::now;
use shared::models::refresh_token::RefreshToken;
use shared::token::PlainToken;

use super::error::OAuthError;
use super::keys::KeyRing;
use super::minting::{TokenPolicy, decode_own_access_token};
use super::token_type::TokenType;

/// The introspection response (RFC 7662 §2.2).
#[derive(Debug, Default, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
}

impl Introspection {
    pub fn inactive() -> Self {
        Self::default()
    }
}

fn may_see(caller: &Client, token_client_id: &str) -> bool {
    caller.is_resource_server || caller.client_id == token_client_id
}

/// Why introspection gave no answer.
#[derive(Debug)]
pub enum IntrospectError {
    Refused(OAuthError),
    /// The caller authenticated from the cache, and its row has changed since (see
    /// `client_cache`): authenticate it again and ask again.
    ClientChanged,
}

impl From<OAuthError> for IntrospectError {
    fn from(error: OAuthError) -> Self {
        Self::Refused(error)
    }
}

impl From<DbError> for IntrospectError {
    fn from(error: DbError) -> Self {
        Self::Refused(error.into())
    }
}

/// What `caller` may learn about `token`; the `hint` is ignored where it is wrong.
pub async fn introspect(
    db: &Db,
    ring: Arc<KeyRing>,
    policy: &TokenPolicy,
    caller: &Client,
    token: &str,
    hint: Option<TokenType>,
) -> Result<Introspection, IntrospectError> {
    if caller.is_public {
        return Err(OAuthError::invalid_client(
            "introspection needs an authenticated confidential client or resource server (RFC 7662 §2.1)",
        )
        .into());
    }
    if TokenType::resolve(token, hint) == TokenType::RefreshToken {
        return introspect_refresh_token(db, policy, caller, PlainToken::from_client(token)).await;
    }
    let claims = decode_own_access_token(&ring, policy, token, true)
        .filter(|claims| may_see(caller, &claims.client_id));
    let jti = claims.as_ref().map(|claims| claims.jti.clone());
    let (caller_id, caller_seen) = (caller.client_id.clone(), caller.updated_at);
    let (unchanged, live) = db
        .run(move |conn| match &jti {
            Some(jti) => {
                AccessTokenRecord::client_unchanged_and_live(conn, &caller_id, caller_seen, jti)
            }
            None => Ok((Client::is_unchanged(conn, &caller_id, caller_seen)?, false)),
        })
        .await?;
    if !unchanged {
        return Err(IntrospectError::ClientChanged);
    }
    let Some(claims) = claims.filter(|_| live) else {
        return Ok(Introspection::inactive());
    };
    Ok(Introspection {
        active: true,
        scope: Some(claims.scope),
        client_id: Some(claims.client_id),
        sub: Some(claims.sub),
        exp: Some(claims.exp),
        iat: Some(claims.iat),
        jti: Some(claims.jti),
        token_type: Some("Bearer"),
        aud: Some(claims.aud),
        iss: Some(claims.iss),
    })
}

async fn introspect_refresh_token(
    db: &Db,
    policy: &TokenPolicy,
    caller: &Client,
    token: PlainToken,
) -> Result<Introspection, IntrospectError> {
    let hash = token.hash();
    let (caller_id, caller_seen) = (caller.client_id.clone(), caller.updated_at);
    let (unchanged, found) = db
        .run(move |conn| {
            if !Client::is_unchanged(conn, &caller_id, caller_seen)? {
                return Ok((false, None));
            }
            Ok::<_, DbError>((true, RefreshToken::find_with_grant(conn, hash.as_str())?))
        })
        .await?;
    if !unchanged {
        return Err(IntrospectError::ClientChanged);
    }
    let Some((row, grant)) = found else {
        return Ok(Introspection::inactive());
    };
    let at = now();
    let active = row.used_at.is_none()
        && row.revoked_at.is_none()
        && grant.revoked_at.is_none()
        && row.expires_at > at
        && row.idle_expires_at > at;
    if !active || !may_see(caller, &row.client_id) {
        return Ok(Introspection::inactive());
    }
    Ok(Introspection {
        active: true,
        scope: Some(row.scope),
        sub: Some(grant.user_id.unwrap_or_else(|| row.client_id.clone())),
        client_id: Some(row.client_id),
        exp: Some(row.idle_expires_at.and_utc().timestamp()),
        iat: Some(row.issued_at.and_utc().timestamp()),
        jti: None,
        token_type: Some("refresh_token"),
        aud: None,
        iss: Some(policy.issuer.clone()),
    })
}
