//! Remembered consent: whether the person must be asked, and recording what they allowed.
//! First-party apps are trusted without asking; others are asked once per new scope.

use serde_json::json;
use shared::audit::AuditEvent;
use shared::db::{Db, DbError, write_transaction};
use shared::models::consent::Consent;
use shared::models::grant::Grant;
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

/// An app the person has allowed, for the granted-apps page.
#[derive(Debug)]
pub struct GrantedApp {
    pub client_id: String,
    pub name: String,
    pub scope: Scope,
    pub granted_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

pub async fn granted_apps(db: &Db, user_id: String) -> Result<Vec<GrantedApp>, DbError> {
    let rows = db
        .run(move |conn| Consent::list_for_user(conn, &user_id))
        .await?;
    Ok(rows
        .into_iter()
        .map(|(consent, name)| GrantedApp {
            scope: Scope::from_stored(&consent.scope),
            client_id: consent.client_id,
            name,
            granted_at: consent.granted_at,
            updated_at: consent.updated_at,
        })
        .collect())
}

/// Takes an app's access away (SECURITY.md 9): forgets the consent and revokes every
/// authorization the person gave it, with all their refresh and access tokens.
/// Returns whether the app had any access.
pub async fn revoke_app(db: &Db, user_id: String, client_id: String) -> Result<bool, DbError> {
    let (user, client) = (user_id.clone(), client_id.clone());
    let (had_consent, grants, access_tokens) = db
        .run(move |conn| {
            write_transaction::<_, DbError, _>(conn, |conn| {
                let had_consent = Consent::delete(conn, &user, &client)?;
                let grants = Grant::live_for(conn, &user, &client)?;
                let mut access_tokens = 0;
                for grant_id in &grants {
                    access_tokens += Grant::revoke_family(conn, grant_id, now())?.len();
                }
                Ok((had_consent, grants.len(), access_tokens))
            })
        })
        .await?;
    if had_consent || grants > 0 {
        db.audit(
            AuditEvent::new("app_revoked")
                .user(Some(&user_id))
                .client(&client_id)
                .detail(json!({ "grants": grants, "access_tokens": access_tokens })),
        );
    }
    Ok(had_consent || grants > 0)
}
