//! The refresh-token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700
//! §4.14.2): every use spends the token and issues a new one in the same family; a spent
//! token presented again revokes the whole family — every refresh and access token of the
//! authorization — since either the client or an attacker holds a stolen copy.
//!
//! Concurrent uses of one token (the same rule on SQLite and PostgreSQL): the database
//! lets exactly one request spend it. Another request that arrived before the token was
//! spent — or that found it unspent and lost the race to spend it — was racing, not
//! replaying: it is refused with `invalid_grant` and revokes nothing, so the winner never
//! holds tokens that are already revoked. Only a request that arrived after the token was
//! spent is reuse.

use std::sync::Arc;

use serde_json::json;
use shared::audit::{AuditEvent, AuditLog};
use shared::db::{Db, DbConnection};
use shared::models::client::Client;
use shared::models::grant::Grant;
use shared::models::now;
use shared::models::refresh_token::RefreshToken;
use shared::token::{HashedToken, PlainToken};

use super::error::{ErrorCode, OAuthError};
use super::keys::KeyRing;
use super::minting::{
    ExchangeError, IssueError, TokenPolicy, TokenResponse, TokenSubject, confirm_client,
    issue_access_token, issue_refresh_token,
};
use super::scope::Scope;
use crate::oidc::id_token::{self, Authentication, UnsignedIdToken};

#[derive(Debug)]
pub struct RefreshRequest {
    pub refresh_token: PlainToken,
    /// A narrower scope for the new access token (RFC 6749 §6).
    pub scope: Option<String>,
    /// When the token endpoint received the request: a token spent after this was spent
    /// by a concurrent request.
    pub arrived_at: chrono::NaiveDateTime,
}

enum Outcome {
    /// The tokens, and the ID token to sign once they are committed.
    Issued(TokenResponse, Option<UnsignedIdToken>),
    Refused(OAuthError),
    /// Refused, with a security event to keep once the transaction has committed.
    Detected(OAuthError, AuditEvent),
}

pub async fn refresh(
    db: &Db,
    audit: &AuditLog,
    ring: Arc<KeyRing>,
    policy: TokenPolicy,
    client: Client,
    request: RefreshRequest,
) -> Result<TokenResponse, ExchangeError> {
    // The scope is checked against the family's in the transaction; its syntax here.
    let narrowed = match &request.scope {
        Some(scope) => Some(
            Scope::parse(scope)
                .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e.to_string()))?,
        ),
        None => None,
    };
    let token_hash = request.refresh_token.hash();
    let client_id = client.client_id.clone();
    let signing_ring = ring.clone();
    let outcome = db
        .write(move |conn| {
            refresh_in_transaction(
                conn,
                &ring,
                &policy,
                &client,
                &token_hash,
                narrowed.as_ref(),
                request.arrived_at,
            )
        })
        .await;
    match outcome {
        Ok(Outcome::Issued(response, id_token)) => {
            Ok(id_token::with_id_token(response, id_token, signing_ring).await?)
        }
        Ok(Outcome::Refused(error)) => Err(error.into()),
        Ok(Outcome::Detected(error, event)) => {
            audit.record(event);
            Err(error.into())
        }
        Err(IssueError::SpentConcurrently) => {
            tracing::warn!(target: "security", event = "refresh_race", client_id = %client_id);
            Err(
                OAuthError::invalid_grant("the refresh token was spent by a concurrent request")
                    .into(),
            )
        }
        Err(error) => Err(error.into()),
    }
}

fn refresh_in_transaction(
    conn: &mut DbConnection,
    ring: &KeyRing,
    policy: &TokenPolicy,
    client: &Client,
    token_hash: &HashedToken,
    narrowed: Option<&Scope>,
    arrived_at: chrono::NaiveDateTime,
) -> Result<Outcome, IssueError> {
    confirm_client(conn, client)?;
    let at = now();
    let refuse = |description: &str| Ok(Outcome::Refused(OAuthError::invalid_grant(description)));
    let Some((token, grant)) = RefreshToken::find_with_grant(conn, token_hash.as_str())? else {
        return refuse("the refresh token is invalid");
    };
    // RFC 6749 §6: only the client the token was issued to may use it.
    if token.client_id != client.client_id {
        tracing::warn!(target: "security", event = "refresh_wrong_client", client_id = %client.client_id, token_ref = token_hash.log_ref());
        return refuse("the refresh token is invalid");
    }
    if grant.revoked_at.is_some() || token.revoked_at.is_some() {
        return refuse("the refresh token has been revoked");
    }
    let reuse = |conn: &mut DbConnection| -> Result<Outcome, IssueError> {
        let revoked = Grant::revoke_family(conn, &grant.id, at)?;
        let event = AuditEvent::new("refresh_reuse")
            .client(&client.client_id)
            .user(grant.user_id.as_deref())
            .detail(json!({
                "grant_id": grant.id,
                "revoked_access_tokens": revoked.len(),
            }));
        Ok(Outcome::Detected(
            OAuthError::invalid_grant("the refresh token has already been used"),
            event,
        ))
    };
    match token.used_at {
        Some(spent_at) if spent_at >= arrived_at => return Err(IssueError::SpentConcurrently),
        Some(_) => return reuse(conn),
        None => {}
    }
    if token.expires_at <= at || token.idle_expires_at <= at {
        return refuse("the refresh token has expired");
    }
    let family_scope = Scope::from_stored(&token.scope);
    let scope = match narrowed {
        Some(requested) if requested.is_subset_of(&family_scope) => requested.clone(),
        Some(_) => {
            return Ok(Outcome::Refused(OAuthError::new(
                ErrorCode::InvalidScope,
                "a refresh may narrow the scope, never widen it",
            )));
        }
        None => family_scope,
    };
    let subject = TokenSubject::from(&grant);
    let (access_token, expires_in) =
        issue_access_token(conn, ring, policy, &subject, &scope.to_string(), at)?;
    let next = issue_refresh_token(
        conn,
        policy,
        &grant,
        &token.scope,
        Some(token.token_hash.clone()),
        at,
    )?;
    // Spent last, at the time this refresh is about to commit: a request that arrived
    // before this moment was racing it. On PostgreSQL a racer waits here for our row lock,
    // then finds the token spent and rolls back what it issued.
    if !RefreshToken::claim(conn, token_hash.as_str(), now())? {
        return Err(IssueError::SpentConcurrently);
    }
    // OpenID Connect Core §12.2: a new ID token with the same `sub` and `auth_time`, and
    // no `nonce`, when the new access token still carries `openid`.
    let id_token = match (&grant.user_id, scope.is_openid()) {
        (Some(user_id), true) => {
            let authentication = Authentication {
                user_id,
                client_id: &client.client_id,
                auth_time: grant.auth_time.unwrap_or(grant.created_at),
                nonce: None,
                session_id: grant.session_id.as_deref(),
                second_factor: grant.second_factor,
            };
            Some(UnsignedIdToken::for_client(
                policy,
                client,
                &authentication,
                &access_token,
                at,
            ))
        }
        _ => None,
    };
    tracing::info!(target: "security", event = "tokens_issued", grant_type = "refresh_token", client_id = %client.client_id, grant_id = %grant.id);
    Ok(Outcome::Issued(
        TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
            scope: scope.to_string(),
            refresh_token: Some(next.expose().to_owned()),
            id_token: None,
        },
        id_token,
    ))
}
