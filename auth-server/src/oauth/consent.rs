//! Remembered consent: whether the person must be asked, and recording what they allowed.
//! First-party apps are trusted without asking; others are asked once per new scope.

use serde_json::json;
use shared::audit::{AuditEvent, AuditLog};
use shared::db::{Db, DbError};
use shared::models::authorization_code::AuthorizationCode;
use shared::models::consent::Consent;
use shared::models::grant::Grant;
use shared::models::now;

use super::authorize::AuthorizationRequest;
use super::redirect_uri::RedirectUri;
use super::scope::Scope;

/// What the person must do before a code is issued.
#[derive(Debug, PartialEq, Eq)]
pub enum ConsentQuestion {
    /// Nothing: a confidential client with remembered consent, or a first-party app that
    /// the person's browser alone can reach.
    NotNeeded,
    /// One click on our page (“Continue to APP as USER”): the scopes were allowed before,
    /// but the client is public, so anyone can send a person here in its name (RFC 8252
    /// §8.6, RFC 6749 §10.2).
    Confirm,
    /// The full consent page; `previously_allowed` is shown as already allowed.
    Ask { previously_allowed: Option<Scope> },
}

/// Whether a client may get a code without the person clicking on our page at all: it
/// is first-party, and either confidential or, if public, redirects only to `https` URIs
/// (claimed links the operating system verifies). A public client's identity is not
/// proven, so a custom scheme or a loopback port can be claimed by any app.
pub fn may_skip_page(client: &shared::models::client::Client) -> bool {
    client.is_first_party
        && (!client.is_public
            || client
                .redirect_uri_list()
                .all(|uri| RedirectUri::from_registered(uri).is_some_and(|uri| uri.is_https())))
}

pub async fn question(
    db: &Db,
    user_id: &str,
    request: &AuthorizationRequest,
) -> Result<ConsentQuestion, DbError> {
    if let Some(answer) = question_without_record(request) {
        return Ok(answer);
    }
    let (user_id, client_id) = (user_id.to_owned(), request.client.client_id.clone());
    let existing = db
        .run(move |conn| Consent::find(conn, &user_id, &client_id))
        .await?;
    Ok(question_given_record(request, existing.as_ref()))
}

/// The answer for a first-party app, which no remembered consent changes; `None` for a
/// third-party app, whose answer depends on what the person allowed before.
pub fn question_without_record(request: &AuthorizationRequest) -> Option<ConsentQuestion> {
    if !request.client.is_first_party {
        return None;
    }
    // OpenID Connect Core §3.1.2.1, `prompt=consent`: ask, whatever was allowed before.
    Some(if request.oidc.prompt.consent {
        ConsentQuestion::Ask {
            previously_allowed: None,
        }
    } else if may_skip_page(&request.client) {
        ConsentQuestion::NotNeeded
    } else {
        ConsentQuestion::Confirm
    })
}

/// The answer for a third-party app, given its remembered consent (if any).
pub fn question_given_record(
    request: &AuthorizationRequest,
    existing: Option<&Consent>,
) -> ConsentQuestion {
    let previously_allowed = existing.map(|consent| Scope::from_stored(&consent.scope));
    match previously_allowed {
        Some(allowed) if request.scope.is_subset_of(&allowed) && !request.oidc.prompt.consent => {
            if request.client.is_public {
                ConsentQuestion::Confirm
            } else {
                ConsentQuestion::NotNeeded
            }
        }
        previously_allowed => ConsentQuestion::Ask { previously_allowed },
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

/// An app that can use the person's account, for the connected-apps page: one they
/// allowed (a remembered consent), or one holding a live token family (first-party apps,
/// which never ask, among them).
#[derive(Debug)]
pub struct GrantedApp {
    pub client_id: String,
    pub name: String,
    /// Everything allowed: the remembered consent and every live family's scope.
    pub scope: Scope,
    pub granted_at: chrono::NaiveDateTime,
}

pub async fn granted_apps(db: &Db, user_id: String) -> Result<Vec<GrantedApp>, DbError> {
    let (consents, grants) = db
        .run(move |conn| {
            Ok::<_, DbError>((
                Consent::list_for_user(conn, &user_id)?,
                Grant::in_use_by(conn, &user_id, now())?,
            ))
        })
        .await?;
    let mut apps: Vec<GrantedApp> = consents
        .into_iter()
        .map(|(consent, name)| GrantedApp {
            scope: Scope::from_stored(&consent.scope),
            client_id: consent.client_id,
            name,
            granted_at: consent.granted_at,
        })
        .collect();
    for (grant, name) in grants {
        let scope = Scope::from_stored(&grant.scope);
        match apps.iter_mut().find(|app| app.client_id == grant.client_id) {
            Some(app) => {
                app.scope = app.scope.union(&scope);
                app.granted_at = app.granted_at.min(grant.created_at);
            }
            None => apps.push(GrantedApp {
                client_id: grant.client_id,
                name,
                scope,
                granted_at: grant.created_at,
            }),
        }
    }
    Ok(apps)
}

/// Takes an app's access away (SECURITY.md 9), in one transaction: forgets the consent,
/// burns the codes not yet exchanged, and revokes every authorization the person gave it,
/// with all their refresh and access tokens. Returns whether the app had any access.
pub async fn revoke_app(
    db: &Db,
    audit: &AuditLog,
    user_id: String,
    client_id: String,
) -> Result<bool, DbError> {
    let (user, client) = (user_id.clone(), client_id.clone());
    let (had_consent, codes, grants, access_tokens) = db
        .write::<_, DbError, _>(move |conn| {
            let had_consent = Consent::delete(conn, &user, &client)?;
            // Codes first: an exchange racing this transaction either finds its code
            // gone, or has created its grant by the time the grants are listed.
            let codes = AuthorizationCode::delete_unused_for(conn, &user, &client)?;
            let grants = Grant::live_for(conn, &user, &client)?;
            let mut access_tokens = 0;
            for grant_id in &grants {
                access_tokens += Grant::revoke_family(conn, grant_id, now())?.len();
            }
            Ok((had_consent, codes, grants.len(), access_tokens))
        })
        .await?;
    let had_access = had_consent || codes > 0 || grants > 0;
    if had_access {
        audit.record(
            AuditEvent::new("app_revoked")
                .user(Some(&user_id))
                .client(&client_id)
                .detail(
                    json!({ "grants": grants, "codes": codes, "access_tokens": access_tokens }),
                ),
        );
    }
    Ok(had_access)
}
