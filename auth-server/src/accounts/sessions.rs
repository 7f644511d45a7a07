//! Browser sessions (SECURITY.md 25): a 256-bit random id that only the cookie holds (the
//! database keeps its SHA-256), a new id at every sign-in, an idle timeout and an absolute
//! lifetime, at most N per user (the oldest ends), and server-side logout.

use chrono::NaiveDateTime;
use shared::config::SessionSettings;
use shared::db::{Db, DbError};
use shared::models::now;
use shared::models::session::{NewSession, Session};
use shared::models::user::User;
use shared::token::{HashedToken, PlainToken};

use super::{AccountError, ClientInfo};

/// Session cookie values start with this, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "sess_";

/// `last_seen_at` is written at most this often, so browsing costs no write per page.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// The longest user agent kept with a session.
const MAX_USER_AGENT: usize = 256;

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle_timeout: chrono::Duration,
    pub absolute_lifetime: chrono::Duration,
    pub max_per_user: u32,
}

impl SessionPolicy {
    pub fn from_settings(settings: &SessionSettings) -> Self {
        let to_chrono =
            |d: std::time::Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        Self {
            idle_timeout: to_chrono(settings.idle_timeout),
            absolute_lifetime: to_chrono(settings.absolute_lifetime),
            max_per_user: settings.max_per_user,
        }
    }

    fn is_live(&self, session: &Session, at: NaiveDateTime) -> bool {
        session.expires_at > at && session.last_seen_at + self.idle_timeout > at
    }
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: Session,
    pub user: User,
}

/// How the person proved who they are when a session starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    Password,
    PasswordAndSecondFactor,
}

/// Starts a session for `user_id`, ending `replacing` (the browser's previous session, so
/// its id cannot be reused: session fixation) and the user's oldest sessions beyond the
/// limit, all in one transaction. Returns the cookie value, which exists nowhere else.
pub async fn start(
    db: &Db,
    policy: SessionPolicy,
    user_id: String,
    client: ClientInfo,
    replacing: Option<String>,
    method: SignInMethod,
) -> Result<PlainToken, AccountError> {
    let token = PlainToken::generate(TOKEN_PREFIX);
    let token_hash = token.hash();
    let ended = db
        .write(move |conn| {
            if let Some(old_id) = &replacing {
                Session::delete(conn, old_id)?;
            }
            let at = now();
            let id = uuid::Uuid::now_v7().to_string();
            let csrf_token = PlainToken::generate("").expose().to_owned();
            let user_agent = client
                .user_agent
                .as_deref()
                .map(|ua| truncate_chars(ua, MAX_USER_AGENT));
            Session::insert(
                conn,
                &NewSession {
                    id: &id,
                    token_hash: token_hash.as_str(),
                    user_id: &user_id,
                    csrf_token: &csrf_token,
                    ip: client.ip.as_deref(),
                    user_agent: user_agent.as_deref(),
                    created_at: at,
                    last_seen_at: at,
                    expires_at: at + policy.absolute_lifetime,
                    second_factor_at: (method == SignInMethod::PasswordAndSecondFactor)
                        .then_some(at),
                },
            )?;
            Session::delete_oldest_beyond(conn, &user_id, policy.max_per_user)
        })
        .await?;
    if ended > 0 {
        tracing::info!(target: "security", event = "session_ended", reason = "session_limit", count = ended);
    }
    Ok(token)
}

/// The live session a cookie value names, with its user; `None` for an unknown, idle or
/// expired one (which is deleted on the way).
pub async fn resolve(
    db: &Db,
    policy: SessionPolicy,
    cookie_value: &str,
) -> Result<Option<SignedIn>, AccountError> {
    if !cookie_value.starts_with(TOKEN_PREFIX) || cookie_value.len() > 128 {
        return Ok(None);
    }
    let token_hash = HashedToken::of(cookie_value);
    let found = db
        .run(move |conn| {
            let Some((mut session, user)) = Session::find_by_token(conn, &token_hash)? else {
                return Ok(None);
            };
            let at = now();
            if !policy.is_live(&session, at) {
                Session::delete(conn, &session.id)?;
                tracing::info!(target: "security", event = "session_ended", reason = "expired", session_id = %session.id);
                return Ok(None);
            }
            if (at - session.last_seen_at).num_seconds() >= TOUCH_INTERVAL_SECS {
                Session::touch(conn, &session.id, at)?;
                session.last_seen_at = at;
            }
            Ok::<_, DbError>(Some(SignedIn { session, user }))
        })
        .await?;
    Ok(found)
}

/// Records that the person of a session proved their second factor now (step-up).
pub async fn mark_second_factor(db: &Db, session_id: String) -> Result<(), AccountError> {
    db.write(move |conn| Session::mark_second_factor(conn, &session_id, now()))
        .await?;
    Ok(())
}

/// Ends a session server-side (logout).
pub async fn end(db: &Db, session_id: String) -> Result<(), AccountError> {
    let id_for_log = session_id.clone();
    db.run(move |conn| Session::delete(conn, &session_id))
        .await?;
    tracing::info!(target: "security", event = "session_ended", reason = "logout", session_id = %id_for_log);
    Ok(())
}

/// Ends one of the user's sessions; `false` when it is not theirs or already gone.
pub async fn end_for_user(
    db: &Db,
    user_id: String,
    session_id: String,
) -> Result<bool, AccountError> {
    let id_for_log = session_id.clone();
    let ended = db
        .run(move |conn| Session::delete_for_user(conn, &user_id, &session_id))
        .await?;
    if ended {
        tracing::info!(target: "security", event = "session_ended", reason = "ended_by_user", session_id = %id_for_log);
    }
    Ok(ended)
}

pub async fn list(db: &Db, user_id: String) -> Result<Vec<Session>, AccountError> {
    Ok(db
        .run(move |conn| Session::list_for_user(conn, &user_id))
        .await?)
}

/// Deletes every expired or idle session (run periodically).
pub async fn prune(db: &Db, policy: SessionPolicy) -> Result<usize, AccountError> {
    Ok(db
        .run(move |conn| {
            let at = now();
            Session::delete_expired(conn, at, at - policy.idle_timeout)
        })
        .await?)
}

fn truncate_chars(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}
