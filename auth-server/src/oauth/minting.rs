//! Issuing tokens for a grant: a JWT access token (RFC 9068) recorded by its `jti`, and an
//! opaque refresh token (256 bits, stored as SHA-256) when the client may refresh.
//! Runs inside the caller's transaction, so either everything is issued or nothing is.

use chrono::NaiveDateTime;
use serde::Serialize;
use shared::claims::{ACCESS_TOKEN_TYPE, AccessTokenClaims};
use shared::config::{PublicUrls, TokenSettings};
use shared::db::{DbConnection, DbError};
use shared::models::access_token::AccessTokenRecord;
use shared::models::client::Client;
use shared::models::grant::Grant;
use shared::models::refresh_token::RefreshToken;
use shared::token::PlainToken;

use super::keys::{ALGORITHM, KeyAlgorithm, KeyRing};

/// Refresh tokens start with this, so a leaked one can be recognised.
pub const REFRESH_TOKEN_PREFIX: &str = "rt_";

/// Lifetimes and audience, from the settings.
#[derive(Debug, Clone)]
pub struct TokenPolicy {
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl: chrono::Duration,
    pub refresh_idle_ttl: chrono::Duration,
    pub refresh_ttl: chrono::Duration,
    pub code_ttl: chrono::Duration,
}

impl TokenPolicy {
    pub fn from_settings(urls: &PublicUrls, tokens: &TokenSettings) -> Self {
        let to_chrono =
            |d: std::time::Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        Self {
            issuer: urls.issuer.clone(),
            audience: urls.resource_api_url.clone(),
            access_token_ttl: to_chrono(tokens.access_token_ttl),
            refresh_idle_ttl: to_chrono(tokens.refresh_token_idle_ttl),
            refresh_ttl: to_chrono(tokens.refresh_token_ttl),
            code_ttl: to_chrono(tokens.authorization_code_ttl),
        }
    }
}

/// The token response body (RFC 6749 §5.1).
#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// OpenID Connect Core §3.1.3.3: for a grant whose scope holds `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("signing failed: {0}")]
    Sign(String),
    /// The code or refresh token being exchanged was spent by a request racing this one:
    /// the transaction rolls back everything it issued.
    #[error("spent by a concurrent request")]
    SpentConcurrently,
    /// The client's row changed since the client authenticated from the cache (see
    /// `client_cache`): nothing was written; it must authenticate again.
    #[error("the client changed")]
    ClientChanged,
}

impl From<crate::oauth::keys::SignError> for IssueError {
    fn from(error: crate::oauth::keys::SignError) -> Self {
        Self::Sign(error.to_string())
    }
}

impl From<IssueError> for super::error::OAuthError {
    fn from(error: IssueError) -> Self {
        match error {
            IssueError::Db(error) => Self::from(error),
            IssueError::SpentConcurrently => Self::invalid_grant("spent by a concurrent request"),
            IssueError::ClientChanged => Self::invalid_client("client authentication failed"),
            IssueError::Sign(message) => {
                tracing::error!(error = %message, "token signing failed");
                Self::new(
                    super::error::ErrorCode::ServerError,
                    "an unexpected error occurred",
                )
            }
        }
    }
}

/// Why a grant issued nothing.
#[derive(Debug)]
pub enum ExchangeError {
    /// The answer to send: the grant's refusal, or a failure.
    Refused(super::error::OAuthError),
    /// The client authenticated from the cache, and its row has changed since (see
    /// `client_cache`): nothing was written; authenticate it again and retry.
    ClientChanged,
}

impl From<super::error::OAuthError> for ExchangeError {
    fn from(error: super::error::OAuthError) -> Self {
        Self::Refused(error)
    }
}

impl From<IssueError> for ExchangeError {
    fn from(error: IssueError) -> Self {
        match error {
            IssueError::ClientChanged => Self::ClientChanged,
            other => Self::Refused(other.into()),
        }
    }
}

impl From<shared::db::DbError> for ExchangeError {
    fn from(error: shared::db::DbError) -> Self {
        Self::Refused(error.into())
    }
}

impl From<diesel::result::Error> for IssueError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Db(DbError::from(error))
    }
}

/// Whom an access token is for: a user's authorization (a grant), or a client acting for
/// itself (client credentials: no grant, no user, `sub` is the client).
#[derive(Debug, Clone)]
pub struct TokenSubject {
    pub grant_id: Option<String>,
    pub user_id: Option<String>,
    pub client_id: String,
    /// When set, the token is recorded only if the client's row still has this
    /// `updated_at` (in the same statement; see `client_cache`): for a grant whose one
    /// write is this token.
    pub client_updated_at: Option<NaiveDateTime>,
}

impl From<&Grant> for TokenSubject {
    fn from(grant: &Grant) -> Self {
        Self {
            grant_id: Some(grant.id.clone()),
            user_id: grant.user_id.clone(),
            client_id: grant.client_id.clone(),
            client_updated_at: None,
        }
    }
}

/// Signs an access token and records it by `jti` (so it can be revoked).
pub fn issue_access_token(
    conn: &mut DbConnection,
    ring: &KeyRing,
    policy: &TokenPolicy,
    subject: &TokenSubject,
    scope: &str,
    at: NaiveDateTime,
) -> Result<(String, i64), IssueError> {
    // Time-ordered (UUIDv7: the millisecond, then 74 random bits), so each new row goes to
    // the end of the `jti` index, the page the previous token wrote, not a random one.
    let jti = uuid::Uuid::now_v7().to_string();
    let expires_at = at + policy.access_token_ttl;
    let claims = AccessTokenClaims {
        iss: policy.issuer.clone(),
        sub: subject
            .user_id
            .clone()
            .unwrap_or_else(|| subject.client_id.clone()),
        aud: policy.audience.clone(),
        client_id: subject.client_id.clone(),
        scope: scope.to_owned(),
        iat: at.and_utc().timestamp(),
        exp: expires_at.and_utc().timestamp(),
        jti: jti.clone(),
    };
    let jwt = ring
        .signing
        .signer
        .sign(&claims)
        .map_err(|e| IssueError::Sign(e.to_string()))?;
    let record = AccessTokenRecord {
        jti,
        grant_id: subject.grant_id.clone(),
        client_id: subject.client_id.clone(),
        user_id: subject.user_id.clone(),
        scope: scope.to_owned(),
        issued_at: at,
        expires_at,
        revoked_at: None,
    };
    match subject.client_updated_at {
        None => AccessTokenRecord::insert(conn, &record)?,
        Some(updated_at) => {
            if !AccessTokenRecord::insert_for_unchanged_client(conn, &record, updated_at)? {
                return Err(IssueError::ClientChanged);
            }
        }
    }
    Ok((jwt, policy.access_token_ttl.num_seconds()))
}

/// The first step of a grant's transaction for a client authenticated from the cache:
/// its row must be unchanged, or nothing happens (see `client_cache`).
pub fn confirm_client(conn: &mut DbConnection, client: &Client) -> Result<(), IssueError> {
    if Client::is_unchanged(conn, &client.client_id, client.updated_at)? {
        Ok(())
    } else {
        Err(IssueError::ClientChanged)
    }
}

/// Verifies an access token we issued (signature with a published key, `typ`, `iss`,
/// `aud`); `None` for anything else. Expiry is checked only when `check_expiry` is set.
/// A token the ring verified before is not checked again (see `keys::VerifiedTokens`).
pub fn decode_own_access_token(
    ring: &KeyRing,
    policy: &TokenPolicy,
    token: &str,
    check_expiry: bool,
) -> Option<AccessTokenClaims> {
    let claims = match ring.verified.get(token) {
        Some(claims) => claims,
        None => {
            let claims = verify_own_access_token(ring, policy, token)?;
            ring.verified.insert(token, &claims);
            claims
        }
    };
    // As jsonwebtoken checks `exp` with no leeway: valid up to and including `exp`.
    let expired = claims.exp < chrono::Utc::now().timestamp();
    (!check_expiry || !expired).then_some(claims)
}

/// The full check, but for expiry.
fn verify_own_access_token(
    ring: &KeyRing,
    policy: &TokenPolicy,
    token: &str,
) -> Option<AccessTokenClaims> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if header.alg != ALGORITHM || header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
        return None;
    }
    let key = ring.verifying_key(header.kid.as_deref()?, KeyAlgorithm::EdDSA)?;
    let mut validation = jsonwebtoken::Validation::new(ALGORITHM);
    validation.set_issuer(&[&policy.issuer]);
    validation.set_audience(&[&policy.audience]);
    validation.validate_exp = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<AccessTokenClaims>(token, key, &validation)
        .ok()
        .map(|data| data.claims)
}

/// Issues and stores a refresh token in the grant's family. The family's absolute end is
/// fixed by the grant's creation; each token's idle end by its own issue time.
pub fn issue_refresh_token(
    conn: &mut DbConnection,
    policy: &TokenPolicy,
    grant: &Grant,
    scope: &str,
    parent_hash: Option<String>,
    at: NaiveDateTime,
) -> Result<PlainToken, IssueError> {
    let token = PlainToken::generate(REFRESH_TOKEN_PREFIX);
    let expires_at = grant.created_at + policy.refresh_ttl;
    RefreshToken::insert(
        conn,
        &RefreshToken {
            token_hash: token.hash().as_str().to_owned(),
            grant_id: grant.id.clone(),
            client_id: grant.client_id.clone(),
            parent_hash,
            scope: scope.to_owned(),
            issued_at: at,
            idle_expires_at: (at + policy.refresh_idle_ttl).min(expires_at),
            expires_at,
            used_at: None,
            revoked_at: None,
        },
    )?;
    Ok(token)
}
