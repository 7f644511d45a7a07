//! Remembered consent: whether the person must be asked, and recording what they allowed.
//! First-party apps are trusted without asking; others are asked once per new scope.

use shared::db::{Db, DbError};
use shared::models::consent::Consent;
use shared::models::now;

use super::authorize::AuthorizationRequest;
use super::scope::Scope;

/// What the consent page needs to show, or nothing when no question is needed.
#[derive(Debug)]
pub struct ConsentQuestion {
    /// Scopes allowed before (shown as already allowed).
    pub previously_allowed: Option<Scope>,
}

pub async fn question(
    db: &Db,
    user_id: &str,
    request: &AuthorizationRequest,
) -> Result<Option<ConsentQuestion>, DbError> {
    if request.client.is_first_party {
        return Ok(None);
    }
    let (user_id, client_id) = (user_id.to_owned(), request.client.client_id.clone());
    let existing = db
        .run(move |conn| Consent::find(conn, &user_id, &client_id))
        .await?;
    let previously_allowed = existing.map(|consent| Scope::from_stored(&consent.scope));
    match previously_allowed {
        Some(allowed) if request.scope.is_subset_of(&allowed) => Ok(None),
        previously_allowed => Ok(Some(ConsentQuestion { previously_allowed })),
    }
}

/// Records that the person allowed the request's scopes (added to any allowed before).
pub async fn remember(
    db: &Db,
    user_id: &str,
    request: &AuthorizationRequest,
) -> Result<(), DbError> {
    let (user_id, client_id, scope) = (
        user_id.to_owned(),
        request.client.client_id.clone(),
        request.scope.clone(),
    );
    db.run(move |conn| {
        let allowed = match Consent::find(conn, &user_id, &client_id)? {
            Some(existing) => Scope::from_stored(&existing.scope).union(&scope),
            None => scope,
        };
        Consent::save(conn, &user_id, &client_id, &allowed.to_string(), now())
    })
    .await
}
