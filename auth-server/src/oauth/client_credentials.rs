//! The client-credentials grant (RFC 6749 §4.4): a confidential client acting for itself
//! gets an access token whose `sub` is its own id, with no user and no refresh token. The
//! identity scopes (`openid`, `profile`, …) are about a person, so they are never granted
//! here: left out of the default scope, refused when asked for.

use std::sync::Arc;

use shared::db::Db;
use shared::models::client::Client;
use shared::models::now;

use super::error::{ErrorCode, OAuthError};
use super::keys::KeyRing;
use super::minting::{ExchangeError, TokenPolicy, TokenResponse, TokenSubject, issue_access_token};
use super::scope::Scope;

pub async fn issue(
    db: &Db,
    ring: Arc<KeyRing>,
    policy: TokenPolicy,
    client: Client,
    scope: Option<&str>,
) -> Result<TokenResponse, ExchangeError> {
    let allowed = Scope::from_stored(&client.scopes);
    let scope = match scope {
        None => allowed.without_identity().ok_or_else(|| {
            OAuthError::new(
                ErrorCode::InvalidScope,
                "this client may ask only for scopes about a person, which client_credentials cannot grant",
            )
        })?,
        Some(requested) => match Scope::parse(requested) {
            Ok(scope) if scope.identity_scopes().next().is_some() => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "openid, profile, email and offline_access need a person: client_credentials cannot grant them",
                )
                .into());
            }
            Ok(scope) if scope.is_subset_of(&allowed) => scope,
            Ok(_) => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "the requested scope exceeds what this client may ask for",
                )
                .into());
            }
            Err(error) => {
                return Err(OAuthError::new(ErrorCode::InvalidScope, error.to_string()).into());
            }
        },
    };
    // One statement records the token and confirms the client is unchanged.
    let subject = TokenSubject {
        grant_id: None,
        user_id: None,
        client_id: client.client_id.clone(),
        client_updated_at: Some(client.updated_at),
    };
    let scope_text = scope.to_string();
    let issued = db
        .write(move |conn| issue_access_token(conn, &ring, &policy, &subject, &scope_text, now()))
        .await?;
    let (access_token, expires_in) = issued;
    tracing::info!(target: "security", event = "tokens_issued", grant_type = "client_credentials", client_id = %client.client_id);
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
        scope: scope.to_string(),
        refresh_token: None,
        id_token: None,
    })
}
