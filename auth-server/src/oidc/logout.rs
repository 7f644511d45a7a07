//! OpenID Connect logout.
//!
//! - RP-Initiated Logout 1.0: a logout request (`id_token_hint`, `client_id`,
//!   `post_logout_redirect_uri`, `state`) is validated like an authorization request —
//!   until the client and its `post_logout_redirect_uri` (registered exactly, with the
//!   redirect-URI rules) are established, nothing is redirected.
//! - Back-Channel Logout 1.0: when a session ends, every app a person authorized from it
//!   that registered a `backchannel_logout_uri` is sent a signed logout token, in the
//!   background (bounded timeout, a few retries), so a slow app never slows sign-out.
//!   Grants of the session without `offline_access` are revoked (§2.7).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::claims::ID_TOKEN_TYPE;
use shared::db::{Db, DbError};
use shared::models::client::Client;
use shared::models::grant::{Grant, LogoutReceiver};
use shared::models::now;
use tracing::Instrument as _;

use crate::oauth::authorize::MAX_STATE_LEN;
use crate::oauth::clients;
use crate::oauth::keys::{KeyAlgorithm, KeyRing};
use crate::oauth::params::{MAX_VALUE_LEN, Params};
use crate::oauth::redirect_uri::RedirectUri;
use crate::oauth::scope::Scope;

/// The JWT `typ` of a logout token (Back-Channel Logout 1.0 §2.4, explicit typing).
pub const LOGOUT_TOKEN_TYPE: &str = "logout+jwt";

/// Back-Channel Logout 1.0 §2.4: the event a logout token carries.
const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long one delivery may take, and the pauses before each retry.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
const RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(4)];

/// What a valid `id_token_hint` says: whom it was for, from which session, for which app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub sub: String,
    pub sid: Option<String>,
    pub client_id: String,
}

/// A logout request that passed every check.
#[derive(Debug, Clone)]
pub struct LogoutRequest {
    pub client: Option<Client>,
    pub post_logout_redirect_uri: Option<RedirectUri>,
    pub state: Option<String>,
    pub hint: Option<Hint>,
}

impl LogoutRequest {
    /// Whether the hint proves the request comes from an app of this very session: then
    /// no confirmation is asked (RP-Initiated Logout 1.0 §2).
    pub fn proves_session(&self, session_id: &str, user_id: &str) -> bool {
        self.hint
            .as_ref()
            .is_some_and(|hint| hint.sub == user_id && hint.sid.as_deref() == Some(session_id))
    }

    /// Where the person goes once signed out: the app's URI with `state`, or our page.
    pub fn destination(&self) -> String {
        match &self.post_logout_redirect_uri {
            Some(uri) => match &self.state {
                Some(state) => uri.with_params(&[("state", state)]),
                None => uri.as_str().to_owned(),
            },
            None => "/login?signed_out=1".to_owned(),
        }
    }
}

/// Why a logout request is refused: shown on our page, never redirected.
#[derive(Debug)]
pub enum LogoutRequestError {
    Page(String),
    Unavailable(DbError),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct HintClaims {
    sub: String,
    aud: Audience,
    sid: Option<String>,
}

/// An ID token we issued (signature with a published key, `iss`, `typ`), expired or not
/// (§2: the hint may be expired); `None` for anything else.
pub fn verify_hint(ring: &KeyRing, issuer: &str, token: &str) -> Option<Hint> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if header.typ.as_deref() != Some(ID_TOKEN_TYPE) {
        return None;
    }
    let alg = KeyAlgorithm::ALL
        .into_iter()
        .find(|alg| alg.jwt() == header.alg)?;
    let key = ring.verifying_key(header.kid.as_deref()?, alg)?;
    let mut validation = jsonwebtoken::Validation::new(alg.jwt());
    validation.set_issuer(&[issuer]);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    let claims = jsonwebtoken::decode::<HintClaims>(token, key, &validation)
        .ok()?
        .claims;
    let client_id = match claims.aud {
        Audience::One(aud) => aud,
        Audience::Many(mut auds) if auds.len() == 1 => auds.remove(0),
        Audience::Many(_) => return None,
    };
    Some(Hint {
        sub: claims.sub,
        sid: claims.sid,
        client_id,
    })
}

/// Checks a logout request's parameters.
pub async fn validate(
    db: &Db,
    ring: &KeyRing,
    issuer: &str,
    params: &Params,
) -> Result<LogoutRequest, LogoutRequestError> {
    let page = |message: &str| Err(LogoutRequestError::Page(message.to_owned()));
    if let Some(name) = params.first_repeated() {
        return page(&format!("The sign-out request repeats {name}."));
    }
    if params.first_malformed().is_some() {
        return page("The sign-out request is not valid UTF-8.");
    }
    if params
        .first_too_long(&["client_id", "post_logout_redirect_uri", "state"])
        .is_some()
        || params.get("state").is_some_and(|s| s.len() > MAX_STATE_LEN)
    {
        return page("The sign-out request is too long.");
    }
    let hint = match params.get("id_token_hint") {
        None => None,
        Some(token) if token.len() > 4 * MAX_VALUE_LEN => {
            return page("The sign-out request's id_token_hint is too long.");
        }
        Some(token) => match verify_hint(ring, issuer, token) {
            Some(hint) => Some(hint),
            None => {
                return page(
                    "The sign-out request's id_token_hint is not an ID token issued here.",
                );
            }
        },
    };
    let client_id = match (params.get("client_id"), &hint) {
        (Some(sent), Some(hint)) if sent != hint.client_id => {
            return page(
                "The sign-out request's client_id is not the app its id_token_hint was issued to.",
            );
        }
        (Some(sent), _) => Some(sent.to_owned()),
        (None, Some(hint)) => Some(hint.client_id.clone()),
        (None, None) => None,
    };
    let client = match client_id {
        None => None,
        Some(id) => match clients::find(db, id).await {
            Ok(Some(client)) => Some(client),
            Ok(None) => {
                return page("The app that sent you here is not registered (unknown client_id).");
            }
            Err(error) => return Err(LogoutRequestError::Unavailable(error)),
        },
    };
    let post_logout_redirect_uri = match (params.get("post_logout_redirect_uri"), &client) {
        (None, _) => None,
        (Some(_), None) => {
            return page(
                "The sign-out request names where to go afterwards but not which app asks (client_id or id_token_hint).",
            );
        }
        (Some(requested), Some(client)) => {
            match RedirectUri::find_registered(client.post_logout_redirect_uri_list(), requested) {
                Some(uri) => Some(uri),
                None => {
                    return page(
                        "The post_logout_redirect_uri is not registered for this app, so you cannot be sent there.",
                    );
                }
            }
        }
    };
    Ok(LogoutRequest {
        client,
        post_logout_redirect_uri,
        state: params.get("state").map(str::to_owned),
        hint,
    })
}

/// The claims of a logout token (Back-Channel Logout 1.0 §2.4): no `nonce`.
#[derive(Debug, Serialize)]
struct LogoutTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    sid: &'a str,
    events: serde_json::Value,
}

/// Sends logout tokens when sessions end. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BackChannel {
    http: reqwest::Client,
    issuer: String,
}

impl BackChannel {
    pub fn new(issuer: &str) -> Result<Self, String> {
        // The process-wide TLS backend may be installed already (resource-api, tests).
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the back-channel logout HTTP client: {e}"))?;
        Ok(Self {
            http,
            issuer: issuer.to_owned(),
        })
    }

    /// The session `session_id` has ended: revokes its grants without `offline_access`
    /// (Back-Channel Logout 1.0 §2.7) now, then tells its apps in the background.
    pub async fn session_ended(
        &self,
        db: &Db,
        ring: Option<Arc<KeyRing>>,
        session_id: String,
    ) -> Result<(), DbError> {
        let receivers = db
            .run(move |conn| sessions_ending(conn, &[session_id]))
            .await?;
        self.tell(ring, receivers);
        Ok(())
    }

    /// Sends each app its logout token, in the background (see [`sessions_ending`]).
    pub fn tell(&self, ring: Option<Arc<KeyRing>>, receivers: Vec<EndedSession>) {
        let Some(ring) = ring else {
            if !receivers.is_empty() {
                tracing::warn!("signing keys not loaded: back-channel logout tokens not sent");
            }
            return;
        };
        for EndedSession {
            session_id,
            receiver,
        } in receivers
        {
            let token = match self.logout_token(&ring, &receiver, &session_id) {
                Ok(token) => token,
                Err(error) => {
                    tracing::error!(error = %error, client_id = %receiver.client_id, "logout token signing failed");
                    continue;
                }
            };
            let http = self.http.clone();
            // Its trace spans stay children of the request that ended the session.
            actix_web::rt::spawn(deliver(http, receiver, token).in_current_span());
        }
    }

    fn logout_token(
        &self,
        ring: &KeyRing,
        receiver: &LogoutReceiver,
        session_id: &str,
    ) -> Result<String, crate::oauth::keys::SignError> {
        let at = now().and_utc().timestamp();
        let claims = LogoutTokenClaims {
            iss: &self.issuer,
            sub: &receiver.user_id,
            aud: &receiver.client_id,
            iat: at,
            exp: at + 120,
            jti: uuid::Uuid::new_v4().to_string(),
            sid: session_id,
            events: json!({ BACKCHANNEL_LOGOUT_EVENT: {} }),
        };
        let alg = KeyAlgorithm::parse(&receiver.id_token_signed_response_alg)
            .unwrap_or(KeyAlgorithm::RS256);
        ring.logout_token_signer(alg).sign(&claims)
    }
}

/// An app to tell that one of its sessions ended.
#[derive(Debug)]
pub struct EndedSession {
    pub session_id: String,
    pub receiver: LogoutReceiver,
}

/// In the transaction that ends `session_ids` (or just after): revokes their grants
/// without `offline_access` (Back-Channel Logout 1.0 §2.7) and lists the apps to tell,
/// read now, while the grants that name them still exist.
pub fn sessions_ending(
    conn: &mut shared::db::DbConnection,
    session_ids: &[String],
) -> Result<Vec<EndedSession>, DbError> {
    let at = now();
    let mut ended = Vec::new();
    for session_id in session_ids {
        for (grant_id, scope) in Grant::live_in_session(conn, session_id)? {
            let scope = Scope::from_stored(&scope);
            if scope.is_openid() && !scope.allows_refresh() {
                Grant::revoke_family(conn, &grant_id, at)?;
            }
        }
        ended.extend(
            Grant::logout_receivers(conn, session_id)?
                .into_iter()
                .map(|receiver| EndedSession {
                    session_id: session_id.clone(),
                    receiver,
                }),
        );
    }
    Ok(ended)
}

/// POSTs the logout token (§2.5), retrying a failed or refused delivery.
async fn deliver(http: reqwest::Client, receiver: LogoutReceiver, token: String) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("logout_token", &token)
        .finish();
    for attempt in 0..=RETRY_DELAYS.len() {
        let request = http
            .post(&receiver.backchannel_logout_uri)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Cache-Control", "no-cache, no-store")
            .body(body.clone());
        let sent = shared::telemetry::traces::send_traced(
            request,
            "POST",
            &receiver.backchannel_logout_uri,
        )
        .await;
        let outcome = match sent {
            Ok(response) if response.status().is_success() => {
                tracing::info!(event = "backchannel_logout_delivered", client_id = %receiver.client_id, attempt);
                return;
            }
            Ok(response) => response.status().to_string(),
            Err(error) if error.is_timeout() => "timed out".to_owned(),
            Err(_) => "unreachable".to_owned(),
        };
        tracing::warn!(event = "backchannel_logout_failed", client_id = %receiver.client_id, attempt, outcome = %outcome);
        if let Some(delay) = RETRY_DELAYS.get(attempt) {
            actix_web::rt::time::sleep(*delay).await;
        }
    }
}
