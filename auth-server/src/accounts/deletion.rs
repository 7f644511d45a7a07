//! Deleting an account, by its owner (password required) or by an operator: in one
//! transaction, every grant is revoked (so its access tokens reach the task API's
//! revocation list before their rows go), the apps of its sessions are listed to be told,
//! and the user row is deleted — with it, by the schema's cascades, its sessions, codes,
//! grants, refresh and access tokens, consents, tasks, API keys and mailed links. What
//! remains is the audit table's `account_deleted` row, written in the same transaction (and
//! older events, as recorded).

use serde_json::json;
use shared::audit::{AuditEvent, AuditLog};
use shared::db::{Db, DbError};
use shared::models::grant::Grant;
use shared::models::login_throttle::LoginThrottle;
use shared::models::now;
use shared::models::session::Session;
use shared::models::user::User;

use super::AccountError;
use crate::oidc::logout::{EndedSession, sessions_ending};

/// Who asked for the deletion, for the audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletedBy {
    Owner,
    Operator,
}

/// What a deletion ended: the apps to tell (back-channel logout).
#[derive(Debug)]
pub struct Deleted {
    pub ended_sessions: Vec<EndedSession>,
}

/// Deletes the account `user_id`; `None` when it does not exist (any more).
pub async fn delete(
    db: &Db,
    user_id: String,
    by: DeletedBy,
    ip: Option<&str>,
) -> Result<Option<Deleted>, AccountError> {
    let id = user_id.clone();
    let ip = ip.map(str::to_owned);
    let ended_sessions = db
        .write(move |conn| {
            let Some(user) = User::find(conn, &id)? else {
                return Ok(None);
            };
            let sessions = Session::delete_all_for_user(conn, &id, None)?;
            let ended_sessions = sessions_ending(conn, &sessions)?;
            let at = now();
            let mut access_tokens = 0;
            let grants = Grant::live_of_user(conn, &id)?;
            for grant_id in &grants {
                access_tokens += Grant::revoke_family(conn, grant_id, at)?.len();
            }
            LoginThrottle::clear(conn, &user.username)?;
            User::delete(conn, &id)?;
            let by = match by {
                DeletedBy::Owner => "owner",
                DeletedBy::Operator => "operator",
            };
            // In the transaction: the deletion and its record commit together.
            AuditLog::record_in(
                conn,
                AuditEvent::new("account_deleted")
                    .user(Some(&id))
                    .ip(ip.as_deref())
                    .detail(json!({
                        "by": by,
                        "sessions_ended": sessions.len(),
                        "grants_revoked": grants.len(),
                        "access_tokens_revoked": access_tokens,
                    })),
            )?;
            Ok::<_, DbError>(Some(ended_sessions))
        })
        .await?;
    Ok(ended_sessions.map(|ended_sessions| Deleted { ended_sessions }))
}
