//! Token revocation (RFC 7009). A refresh token revokes its whole family (§2.1: the access
//! tokens of the same grant too); an access token revokes itself, by `jti`. A client can
//! revoke only what was issued to it. Unknown, malformed, expired or already revoked tokens
//! are answered 200 all the same (§2.2): the client's goal — the token is unusable — holds.
//! `token_type_hint` is not needed: refresh tokens (`rt_…`) and JWTs tell themselves apart
//! (`token_type`).

use std::sync::Arc;

use serde_json::json;
use shared::audit::{AuditEvent, AuditLog};
use shared::db::{Db, DbError};
use shared::models::access_token::AccessTokenRecord;
use shared::models::client::Client;
use shared::models::grant::Grant;
use shared::models::now;
use shared::models::refresh_token::RefreshToken;
use shared::token::PlainToken;

use super::error::OAuthError;
use super::keys::KeyRing;
use super::minting::{TokenPolicy, decode_own_access_token};
use super::token_type::TokenType;

/// Revokes `token` for `client`; the `hint` is ignored where it is wrong. `Err` only when
/// the token belongs to another client or the database fails.
pub async fn revoke(
    db: &Db,
    audit: &AuditLog,
    ring: Arc<KeyRing>,
    policy: &TokenPolicy,
    client: &Client,
    token: &str,
    hint: Option<TokenType>,
) -> Result<(), OAuthError> {
    if TokenType::resolve(token, hint) == TokenType::RefreshToken {
        return revoke_refresh_token(db, audit, client, PlainToken::from_client(token)).await;
    }
    // Expired access tokens are harmless already; anything that does not verify is not ours.
    let Some(claims) = decode_own_access_token(&ring, policy, token, false) else {
        return Ok(());
    };
    if claims.client_id != client.client_id {
        tracing::warn!(target: "security", event = "revocation_wrong_client", client_id = %client.client_id, jti = %claims.jti);
        return Err(OAuthError::invalid_request(
            "the token was not issued to this client",
        ));
    }
    let jti = claims.jti.clone();
    let revoked = db
        .run(move |conn| AccessTokenRecord::revoke(conn, &jti, now()))
        .await?;
    if revoked {
        audit.record(
            AuditEvent::new("token_revoked")
                .client(&client.client_id)
                .user((claims.sub != claims.client_id).then_some(claims.sub.as_str()))
                .detail(json!({ "kind": "access_token", "jti": claims.jti })),
        );
    }
    Ok(())
}

async fn revoke_refresh_token(
    db: &Db,
    audit: &AuditLog,
    client: &Client,
    token: PlainToken,
) -> Result<(), OAuthError> {
    let hash = token.hash();
    let client_id = client.client_id.clone();
    let outcome = db
        .write::<_, DbError, _>(move |conn| {
            let Some(row) = RefreshToken::find(conn, hash.as_str())? else {
                return Ok(RefreshRevocation::Unknown);
            };
            if row.client_id != client_id {
                return Ok(RefreshRevocation::OtherClient);
            }
            let revoked = Grant::revoke_family(conn, &row.grant_id, now())?;
            Ok(RefreshRevocation::Revoked {
                grant_id: row.grant_id,
                access_tokens: revoked.len(),
            })
        })
        .await?;
    match outcome {
        RefreshRevocation::Unknown => Ok(()),
        RefreshRevocation::OtherClient => {
            tracing::warn!(target: "security", event = "revocation_wrong_client", client_id = %client.client_id);
            Err(OAuthError::invalid_request(
                "the token was not issued to this client",
            ))
        }
        RefreshRevocation::Revoked {
            grant_id,
            access_tokens,
        } => {
            audit.record(AuditEvent::new("token_revoked").client(&client.client_id).detail(
                json!({ "kind": "refresh_token", "grant_id": grant_id, "access_tokens": access_tokens }),
            ));
            Ok(())
        }
    }
}

enum RefreshRevocation {
    Unknown,
    OtherClient,
    Revoked {
        grant_id: String,
        access_tokens: usize,
    },
}
