//! The client registry: registering apps (secrets generated here, shown once, stored as
//! SHA-256), and authenticating them at the token endpoint (RFC 6749 §2.3):
//! `client_secret_basic`, `client_secret_post`, or `none` for public clients.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use shared::audit::{AuditEvent, AuditLog};
use shared::db::{Db, DbError};
use shared::models::client::Client;
use shared::models::now;
use shared::token::{HashedToken, PlainToken, constant_time_eq};

use super::client_cache::ClientCache;
use super::error::OAuthError;
use super::grant_type::GrantType;
use super::keys::KeyAlgorithm;
use super::redirect_uri::RedirectUri;
use super::scope::Scope;

/// Client secrets start with this, so a leaked one can be recognised.
pub const SECRET_PREFIX: &str = "cs_";

const MAX_NAME_LEN: usize = 100;

/// What an operator asks for when registering an app.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub scope: String,
    /// Grant type names as the operator typed them; `register` checks them.
    pub grant_types: Vec<String>,
    pub is_public: bool,
    pub is_first_party: bool,
    /// Confidential clients may turn PKCE off; public clients always need it.
    pub require_pkce: bool,
    /// A resource server: a confidential client that may introspect any token.
    pub is_resource_server: bool,
    /// The JWS `alg` of the client's ID tokens (`RS256` when not given, or `EdDSA`).
    pub id_token_signed_response_alg: Option<String>,
    /// Exact URIs a person may be sent to after RP-initiated logout (same rules as
    /// redirect URIs).
    pub post_logout_redirect_uris: Vec<String>,
    /// Where the client receives back-channel logout tokens: https, or http on loopback.
    pub backchannel_logout_uri: Option<String>,
    /// Authorizations for the client need a sign-in with the second factor.
    pub require_mfa: bool,
}

/// Why a client was not registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterClientError {
    /// A value was refused; the message names the argument at fault (`--redirect-uri …`).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Validates and stores a client. Returns it with its secret (confidential clients only),
/// which exists nowhere else from then on.
pub async fn register(
    db: &Db,
    new: NewClient,
) -> Result<(Client, Option<PlainToken>), RegisterClientError> {
    let invalid = RegisterClientError::Invalid;
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(invalid(format!("--name: 1 to {MAX_NAME_LEN} characters")));
    }
    for uri in &new.redirect_uris {
        RedirectUri::parse_registered(uri)
            .map_err(|e| invalid(format!("--redirect-uri `{uri}`: {e}")))?;
    }
    let scope = Scope::parse(new.scope.trim()).map_err(|e| invalid(format!("--scope: {e}")))?;
    let mut names = new.grant_types.clone();
    names.sort();
    names.dedup();
    let grant_types = names
        .iter()
        .map(|name| {
            name.parse::<GrantType>().map_err(|_| {
                invalid(format!(
                    "--grant-type: `{name}` is not supported (supported: {})",
                    GrantType::ALL.map(GrantType::as_str).join(", ")
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let uses_code = grant_types.contains(&GrantType::AuthorizationCode);
    if uses_code && new.redirect_uris.is_empty() {
        return Err(invalid(
            "--redirect-uri: at least one is required for the authorization_code grant".into(),
        ));
    }
    if !uses_code && !new.redirect_uris.is_empty() {
        return Err(invalid(
            "--redirect-uri: only clients of the authorization_code grant have redirect URIs"
                .into(),
        ));
    }
    if grant_types.contains(&GrantType::RefreshToken) && !uses_code {
        return Err(invalid(
            "--grant-type: refresh_token needs authorization_code".into(),
        ));
    }
    if new.is_public && grant_types.contains(&GrantType::ClientCredentials) {
        return Err(invalid(
            "--grant-type: client_credentials needs a confidential client (RFC 6749 §4.4)".into(),
        ));
    }
    if new.is_public && !new.require_pkce {
        return Err(invalid(
            "public clients always use PKCE (RFC 9700 §2.1.1)".into(),
        ));
    }
    if new.is_public && new.is_resource_server {
        return Err(invalid(
            "a resource server authenticates, so it cannot be public".into(),
        ));
    }
    if grant_types.is_empty() && !new.is_resource_server {
        return Err(invalid("--grant-type: at least one is required".into()));
    }
    for uri in &new.post_logout_redirect_uris {
        RedirectUri::parse_registered(uri)
            .map_err(|e| invalid(format!("--post-logout-redirect-uri `{uri}`: {e}")))?;
    }
    if let Some(uri) = &new.backchannel_logout_uri {
        let parsed = RedirectUri::parse_registered(uri)
            .map_err(|e| invalid(format!("--backchannel-logout-uri `{uri}`: {e}")))?;
        if !matches!(parsed.url().scheme(), "https" | "http") {
            return Err(invalid(format!(
                "--backchannel-logout-uri `{uri}`: the server calls it, so it is https (or http on loopback)"
            )));
        }
    }
    let id_token_alg = match new.id_token_signed_response_alg.as_deref() {
        None => KeyAlgorithm::RS256,
        Some(name) => KeyAlgorithm::parse(name).ok_or_else(|| {
            invalid(format!(
                "--id-token-alg: `{name}` is not supported (supported: {})",
                KeyAlgorithm::ALL.map(KeyAlgorithm::as_str).join(", ")
            ))
        })?,
    };

    let secret = (!new.is_public).then(|| PlainToken::generate(SECRET_PREFIX));
    let at = now();
    let client = Client {
        client_id: new_client_id(),
        secret_hash: secret.as_ref().map(|s| s.hash().as_str().to_owned()),
        name,
        redirect_uris: new.redirect_uris.join(" "),
        scopes: scope.to_string(),
        // Stored by name, space-separated, in the names' sort order.
        grant_types: names.join(" "),
        is_public: new.is_public,
        is_first_party: new.is_first_party,
        require_pkce: new.require_pkce || new.is_public,
        created_at: at,
        updated_at: at,
        disabled_at: None,
        is_resource_server: new.is_resource_server,
        id_token_signed_response_alg: id_token_alg.as_str().to_owned(),
        post_logout_redirect_uris: new.post_logout_redirect_uris.join(" "),
        backchannel_logout_uri: new.backchannel_logout_uri.clone(),
        require_mfa: new.require_mfa,
    };
    let stored = client.clone();
    db.run(move |conn| Client::insert(conn, &stored)).await?;
    Ok((client, secret))
}

/// 128 random bits, URL-safe: identifiers need not be secret, only unique.
fn new_client_id() -> String {
    let token = PlainToken::generate("");
    format!("client_{}", &token.expose()[..22])
}

/// How the client presented itself at the token endpoint.
#[derive(Debug)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<PlainToken>,
    /// Whether the secret came in the `Authorization: Basic` header.
    pub via_basic: bool,
}

/// Reads the client's credentials from the `Authorization` header and the body. Using two
/// methods at once is refused (RFC 6749 §2.3).
pub fn credentials(
    authorization_header: Option<&str>,
    body_client_id: Option<&str>,
    body_secret: Option<&str>,
) -> Result<ClientCredentials, OAuthError> {
    if let Some(header) = authorization_header {
        let Some(encoded) = header
            .strip_prefix("Basic ")
            .or_else(|| header.strip_prefix("basic "))
        else {
            return Err(OAuthError::invalid_client(
                "unsupported Authorization scheme; use Basic",
            ));
        };
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
        let id = form_urldecode(id)
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        let secret = form_urldecode(secret)
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        if body_client_id.is_some_and(|body_id| body_id != id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the Basic credentials",
            ));
        }
        return Ok(ClientCredentials {
            client_id: id,
            secret: Some(PlainToken::from_client(secret)),
            via_basic: true,
        });
    }
    let client_id = body_client_id
        .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?;
    Ok(ClientCredentials {
        client_id: client_id.to_owned(),
        secret: body_secret.map(PlainToken::from_client),
        via_basic: false,
    })
}

fn form_urldecode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            // Exactly two hex digits (URL Standard, percent-decode): `u8::from_str_radix`
            // alone would also take a sign, reading `%+a` as a newline.
            b'%' => {
                let (hi, lo) = (*bytes.get(i + 1)?, *bytes.get(i + 2)?);
                out.push(hex_value(hi)? << 4 | hex_value(lo)?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Checks the credentials against the registry: a confidential client must present its
/// secret, a public client must present none. Every failure is `invalid_client` and says
/// no more than that (no hint whether the client exists).
///
/// With a `cache`, a client found there and accepted by its cached row is taken as it is:
/// the caller must then confirm the row is unchanged in the database work that follows
/// (see `client_cache`). A refusal is never decided by the cache: the row is read anew
/// (a secret just rotated, a client just re-enabled), and kept in the cache.
pub async fn authenticate(
    db: &Db,
    cache: Option<&ClientCache>,
    audit: &AuditLog,
    credentials: &ClientCredentials,
    ip: Option<&str>,
) -> Result<Client, OAuthError> {
    if let Some(cache) = cache {
        match cache.get(&credentials.client_id) {
            Some(client) if accepts(&client, credentials) && client.is_enabled() => {
                return Ok(client);
            }
            Some(_) => cache.evict(&credentials.client_id),
            None => {}
        }
    }
    let client_id = credentials.client_id.clone();
    let client = db
        .run(move |conn| Client::find(conn, &client_id))
        .await
        .map_err(OAuthError::from)?;
    if let (Some(cache), Some(client)) = (cache, &client) {
        cache.insert(client);
    }
    let verdict = match &client {
        Some(client) => accepts(client, credentials),
        None => {
            // Same work as a real comparison, so timing does not reveal unknown clients.
            let _digest = credentials.secret.as_ref().map(PlainToken::hash);
            false
        }
    };
    match client {
        Some(client) if verdict && client.is_enabled() => Ok(client),
        Some(client) if verdict => {
            audit.record(
                AuditEvent::new("client_auth_failure")
                    .client(&client.client_id)
                    .ip(ip)
                    .detail(json!({ "reason": "disabled" })),
            );
            Err(OAuthError::invalid_client("client authentication failed"))
        }
        _ => {
            audit.record(
                AuditEvent::new("client_auth_failure")
                    .client(&credentials.client_id)
                    .ip(ip)
                    .detail(json!({ "via_basic": credentials.via_basic })),
            );
            Err(OAuthError::invalid_client("client authentication failed"))
        }
    }
}

/// Whether `credentials` are this client's: its secret for a confidential client, none
/// for a public one (RFC 6749 §2.3.1, §2.1).
fn accepts(client: &Client, credentials: &ClientCredentials) -> bool {
    match &credentials.secret {
        Some(secret) if !client.is_public => client
            .secret_hash
            .as_deref()
            .is_some_and(|stored| constant_time_eq(stored, secret.hash().as_str())),
        Some(_) => false,
        None => client.is_public,
    }
}

pub async fn find(db: &Db, client_id: String) -> Result<Option<Client>, DbError> {
    db.run(move |conn| Client::find(conn, &client_id)).await
}

pub async fn list(db: &Db) -> Result<Vec<Client>, DbError> {
    db.run(Client::list).await
}

/// Disables (or re-enables) a client; returns whether it exists.
pub async fn set_enabled(db: &Db, client_id: String, enabled: bool) -> Result<bool, DbError> {
    db.run(move |conn| {
        let at = now();
        Client::set_disabled(conn, &client_id, (!enabled).then_some(at), at)
    })
    .await
}

/// Replaces a confidential client's secret; the old one stops working at once.
/// `None` when there is no such confidential client.
pub async fn rotate_secret(db: &Db, client_id: String) -> Result<Option<PlainToken>, DbError> {
    let secret = PlainToken::generate(SECRET_PREFIX);
    let hash: HashedToken = secret.hash();
    let rotated = db
        .run(move |conn| Client::set_secret_hash(conn, &client_id, hash.as_str(), now()))
        .await?;
    Ok(rotated.then_some(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_urldecoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20client:s%3Acret+x"));
        let credentials = credentials(Some(&header), None, None).unwrap();
        assert_eq!(credentials.client_id, "my client");
        assert_eq!(credentials.secret.unwrap().expose(), "s:cret x");
    }

    /// Found by the `token_form` fuzz target: `%+a` was read as `%0a`.
    #[test]
    fn a_percent_takes_exactly_two_hex_digits() {
        for malformed in [
            "%+a:s", "id:%+0", "id:%-1", "%0:s", "id:%", "id:%g0", "id:% 1",
        ] {
            let header = format!("Basic {}", STANDARD.encode(malformed));
            assert!(
                credentials(Some(&header), None, None).is_err(),
                "{malformed:?}"
            );
        }
        let header = format!("Basic {}", STANDARD.encode("a%2Bb%2f:%E2%82%AC"));
        let credentials = credentials(Some(&header), None, None).unwrap();
        assert_eq!(credentials.client_id, "a+b/");
        assert_eq!(credentials.secret.unwrap().expose(), "€");
    }

    #[test]
    fn two_methods_or_malformed_headers_are_refused() {
        let header = format!("Basic {}", STANDARD.encode("a:b"));
        assert!(credentials(Some(&header), None, Some("b")).is_err());
        assert!(credentials(Some("Basic !!!"), None, None).is_err());
        assert!(credentials(Some("Bearer x"), None, None).is_err());
        assert!(credentials(None, None, None).is_err());
    }
}
