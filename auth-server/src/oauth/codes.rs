//! Authorization codes (SECURITY.md 10): issued after consent — 256 random bits, stored
//! as SHA-256, 60 s by default, bound to client, redirect URI, PKCE challenge, user and
//! scope — and exchanged once at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6).
//! A code presented twice revokes everything the first exchange issued (§4.1.2) — unless
//! the second request arrived before the code was spent: requests racing each other with
//! one code are refused with `invalid_grant` and revoke nothing, so the winner never holds
//! tokens that are already revoked (the same rule as for refresh tokens, on both databases).

use serde_json::json;
use shared::audit::{AuditEvent, AuditLog};
use shared::db::{Db, DbConnection, DbError};
use shared::models::authorization_code::AuthorizationCode;
use shared::models::client::Client;
use shared::models::consent::Consent;
use shared::models::grant::Grant;
use shared::models::now;
use shared::token::{HashedToken, PlainToken};

use super::authorize::AuthorizationRequest;
use super::consent::{self, ConsentQuestion};
use super::error::OAuthError;
use super::grant_type::GrantType;
use super::keys::KeyRing;
use super::minting::{
    ExchangeError, IssueError, TokenPolicy, TokenResponse, TokenSubject, confirm_client,
    issue_access_token, issue_refresh_token,
};
use super::pkce;
use super::scope::Scope;
use crate::oidc::id_token::{self, Authentication, UnsignedIdToken};

/// Codes start with this, so a leaked one can be recognised.
pub const CODE_PREFIX: &str = "ac_";

/// The sign-in that approved a request: the session, and when the person signed in to it.
#[derive(Debug, Clone)]
pub struct Approval<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
    pub auth_time: chrono::NaiveDateTime,
    /// Whether the session's person proved their second factor.
    pub second_factor: bool,
}

/// Stores a new code for the approved request and returns it (for the redirect only).
pub async fn issue(
    db: &Db,
    policy: &TokenPolicy,
    approval: &Approval<'_>,
    request: &AuthorizationRequest,
) -> Result<PlainToken, DbError> {
    let code = PlainToken::generate(CODE_PREFIX);
    let row = code_row(&code, policy, approval, request);
    db.write(move |conn| AuthorizationCode::insert(conn, &row))
        .await?;
    Ok(code)
}

/// What [`issue_if_nothing_to_ask`] did.
#[derive(Debug)]
pub enum QuickIssue {
    /// The code is stored.
    Issued(PlainToken),
    /// Nothing written: the client's row changed since it was cached.
    ClientChanged,
    /// Nothing written: the person has something to answer first.
    ConsentNeeded,
}

/// [`issue`] for a request validated against a cached client, in one database trip: in one
/// transaction it confirms the client's row is unchanged (see `client_cache`), that the
/// person has nothing to answer (a first-party app that skips the page, or a remembered
/// consent that covers the request), and stores the code.
pub async fn issue_if_nothing_to_ask(
    db: &Db,
    policy: &TokenPolicy,
    approval: &Approval<'_>,
    request: &AuthorizationRequest,
) -> Result<QuickIssue, DbError> {
    let needs_record = match consent::question_without_record(request) {
        Some(ConsentQuestion::NotNeeded) => false,
        Some(_) => return Ok(QuickIssue::ConsentNeeded),
        None => true,
    };
    let code = PlainToken::generate(CODE_PREFIX);
    let row = code_row(&code, policy, approval, request);
    let request = request.clone();
    let updated_at = request.client.updated_at;
    db.write(move |conn| {
        if !Client::is_unchanged(conn, &row.client_id, updated_at)? {
            return Ok(QuickIssue::ClientChanged);
        }
        if needs_record {
            let existing = Consent::find(conn, &row.user_id, &row.client_id)?;
            if consent::question_given_record(&request, existing.as_ref())
                != ConsentQuestion::NotNeeded
            {
                return Ok(QuickIssue::ConsentNeeded);
            }
        }
        AuthorizationCode::insert(conn, &row)?;
        Ok::<_, DbError>(QuickIssue::Issued(code))
    })
    .await
}

/// The stored form of a new code for the approved request.
fn code_row(
    code: &PlainToken,
    policy: &TokenPolicy,
    approval: &Approval<'_>,
    request: &AuthorizationRequest,
) -> AuthorizationCode {
    let at = now();
    AuthorizationCode {
        code_hash: code.hash().as_str().to_owned(),
        client_id: request.client.client_id.clone(),
        user_id: approval.user_id.to_owned(),
        redirect_uri: request.redirect_uri.as_str().to_owned(),
        redirect_uri_in_request: request.redirect_uri_in_request,
        scope: request.scope.to_string(),
        code_challenge: request.code_challenge.clone(),
        created_at: at,
        expires_at: at + policy.code_ttl,
        used_at: None,
        grant_id: None,
        nonce: request.oidc.nonce.clone(),
        auth_time: Some(approval.auth_time),
        session_id: Some(approval.session_id.to_owned()),
        second_factor: approval.second_factor,
    }
}

/// The token request's parameters for this grant (`Debug` shows neither code nor verifier).
pub struct CodeExchange {
    pub code: PlainToken,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    /// When the token endpoint received the request: a code spent after this was spent by
    /// a concurrent request.
    pub arrived_at: chrono::NaiveDateTime,
}

impl std::fmt::Debug for CodeExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeExchange")
            .field("code", &self.code)
            .field("redirect_uri", &self.redirect_uri)
            .field("code_verifier", &self.code_verifier.as_ref().map(|_| "***"))
            .field("arrived_at", &self.arrived_at)
            .finish()
    }
}

/// What the transaction decided. A refusal may still commit (a replay's revocation).
enum Outcome {
    /// The tokens, and the ID token to sign once they are committed.
    Issued(TokenResponse, Option<UnsignedIdToken>),
    Refused(OAuthError),
    /// Refused, with a security event to keep once the transaction has committed.
    Detected(OAuthError, AuditEvent),
}

/// Exchanges a code for tokens, for the authenticated `client`.
pub async fn exchange(
    db: &Db,
    audit: &AuditLog,
    ring: std::sync::Arc<KeyRing>,
    policy: TokenPolicy,
    client: Client,
    request: CodeExchange,
) -> Result<TokenResponse, ExchangeError> {
    let code_hash = request.code.hash();
    let client_id = client.client_id.clone();
    let signing_ring = ring.clone();
    let outcome = db
        .write(move |conn| {
            exchange_in_transaction(conn, &ring, &policy, &client, &code_hash, &request)
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
            tracing::warn!(target: "security", event = "code_race", client_id = %client_id);
            Err(OAuthError::invalid_grant(
                "the authorization code was spent by a concurrent request",
            )
            .into())
        }
        Err(error) => Err(error.into()),
    }
}

fn exchange_in_transaction(
    conn: &mut DbConnection,
    ring: &KeyRing,
    policy: &TokenPolicy,
    client: &Client,
    code_hash: &HashedToken,
    request: &CodeExchange,
) -> Result<Outcome, IssueError> {
    confirm_client(conn, client)?;
    let at = now();
    let refuse = |description: &str| Ok(Outcome::Refused(OAuthError::invalid_grant(description)));
    let Some(code) = AuthorizationCode::find(conn, code_hash.as_str())? else {
        return refuse("the authorization code is invalid");
    };
    // RFC 6749 §4.1.3: the code was issued to this client.
    if code.client_id != client.client_id {
        tracing::warn!(target: "security", event = "code_wrong_client", client_id = %client.client_id, code_ref = code_hash.log_ref());
        return refuse("the authorization code is invalid");
    }
    // RFC 6749 §4.1.2: single use; a second use revokes what the first one issued —
    // unless this request arrived before the code was spent, racing the one that won.
    if code
        .used_at
        .is_some_and(|spent_at| spent_at >= request.arrived_at)
    {
        return Err(IssueError::SpentConcurrently);
    }
    if code.used_at.is_some() {
        let revoked = match &code.grant_id {
            Some(grant_id) => Grant::revoke_family(conn, grant_id, at)?,
            None => Vec::new(),
        };
        let event = AuditEvent::new("code_replay")
            .client(&client.client_id)
            .user(Some(&code.user_id))
            .detail(json!({
                "grant_id": code.grant_id,
                "revoked_access_tokens": revoked.len(),
            }));
        return Ok(Outcome::Detected(
            OAuthError::invalid_grant("the authorization code has already been used"),
            event,
        ));
    }
    if code.expires_at <= at {
        return refuse("the authorization code has expired");
    }
    // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
    match &request.redirect_uri {
        Some(sent) if *sent != code.redirect_uri => {
            return refuse("redirect_uri does not match the authorization request");
        }
        None if code.redirect_uri_in_request => {
            return refuse("redirect_uri is required: it was in the authorization request");
        }
        _ => {}
    }
    // RFC 7636 §4.6; RFC 9700 §4.8.2: a verifier without a challenge is a downgrade.
    match (&code.code_challenge, &request.code_verifier) {
        (Some(challenge), Some(verifier)) => {
            if !pkce::is_valid_verifier(verifier) || !pkce::verify_s256(verifier, challenge) {
                AuthorizationCode::claim(conn, code_hash.as_str(), at, None)?;
                tracing::warn!(target: "security", event = "pkce_failure", client_id = %client.client_id);
                return Ok(Outcome::Refused(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                )));
            }
        }
        (Some(_), None) => return refuse("code_verifier is required"),
        (None, Some(_)) => {
            return refuse(
                "code_verifier sent, but the authorization request had no code_challenge",
            );
        }
        (None, None) => {}
    }
    let grant = Grant {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: Some(code.user_id.clone()),
        client_id: client.client_id.clone(),
        scope: code.scope.clone(),
        created_at: at,
        revoked_at: None,
        auth_time: code.auth_time,
        session_id: code.session_id.clone(),
        second_factor: code.second_factor,
    };
    Grant::insert(conn, &grant)?;
    let (access_token, expires_in) = issue_access_token(
        conn,
        ring,
        policy,
        &TokenSubject::from(&grant),
        &grant.scope,
        at,
    )?;
    let scope = Scope::from_stored(&grant.scope);
    // OpenID Connect Core §11: with `openid`, a refresh token only for `offline_access`.
    let refresh_token = if GrantType::RefreshToken.is_allowed_for(client) && scope.allows_refresh()
    {
        Some(
            issue_refresh_token(conn, policy, &grant, &grant.scope, None, at)?
                .expose()
                .to_owned(),
        )
    } else {
        None
    };
    // Spent last, at the time this exchange is about to commit: a request that arrived
    // before this moment was racing it. On PostgreSQL a racer waits here for our row lock,
    // then finds the code spent and rolls back what it issued.
    if !AuthorizationCode::claim(conn, code_hash.as_str(), now(), Some(&grant.id))? {
        return Err(IssueError::SpentConcurrently);
    }
    let id_token = scope.is_openid().then(|| {
        let authentication = Authentication {
            user_id: &code.user_id,
            client_id: &client.client_id,
            auth_time: code.auth_time.unwrap_or(code.created_at),
            nonce: code.nonce.as_deref(),
            session_id: code.session_id.as_deref(),
            second_factor: code.second_factor,
        };
        UnsignedIdToken::for_client(policy, client, &authentication, &access_token, at)
    });
    tracing::info!(target: "security", event = "tokens_issued", grant_type = "authorization_code", client_id = %client.client_id, grant_id = %grant.id);
    Ok(Outcome::Issued(
        TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
            scope: grant.scope,
            refresh_token,
            id_token: None,
        },
        id_token,
    ))
}
