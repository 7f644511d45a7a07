//! `clients`: the registered OAuth clients (apps).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::clients;

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients, treat_none_as_default_value = false)]
pub struct Client {
    pub client_id: String,
    pub secret_hash: Option<String>,
    pub name: String,
    /// Space-separated, exact URIs.
    pub redirect_uris: String,
    /// Space-separated scopes the client may ask for.
    pub scopes: String,
    /// Space-separated grant types the client may use.
    pub grant_types: String,
    pub is_public: bool,
    pub is_first_party: bool,
    pub require_pkce: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
    /// May introspect any token (RFC 7662), not only its own.
    pub is_resource_server: bool,
    /// The JWS `alg` of this client's ID tokens: `RS256` (the default) or `EdDSA`.
    pub id_token_signed_response_alg: String,
    /// Space-separated, exact URIs a person may be sent to after RP-initiated logout.
    pub post_logout_redirect_uris: String,
    /// Where the client receives back-channel logout tokens, if it asked for them.
    pub backchannel_logout_uri: Option<String>,
    /// Authorizations for this client need a sign-in with the second factor.
    pub require_mfa: bool,
}

/// Leaves the secret hash out of logs.
impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("is_public", &self.is_public)
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn redirect_uri_list(&self) -> impl Iterator<Item = &str> {
        self.redirect_uris.split_whitespace()
    }

    pub fn post_logout_redirect_uri_list(&self) -> impl Iterator<Item = &str> {
        self.post_logout_redirect_uris.split_whitespace()
    }

    pub fn scope_list(&self) -> impl Iterator<Item = &str> {
        self.scopes.split_whitespace()
    }

    pub fn allows_grant_type(&self, grant_type: &str) -> bool {
        self.grant_types.split_whitespace().any(|g| g == grant_type)
    }

    pub fn is_enabled(&self) -> bool {
        self.disabled_at.is_none()
    }

    pub fn insert(conn: &mut DbConnection, client: &Client) -> Result<(), DbError> {
        native!(conn, |conn| diesel::insert_into(clients::table)
            .values(client)
            .execute(conn))?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, client_id: &str) -> Result<Option<Client>, DbError> {
        Ok(native!(conn, |conn| clients::table
            .find(client_id)
            .select(Client::as_select())
            .get_result(conn))
        .optional()?)
    }

    /// Whether the client's row is still the one `updated_at` was read from, and enabled:
    /// what a cached client must pass before it is trusted with a write. Every change to a
    /// client (disable, enable, new secret) sets `updated_at`.
    pub fn is_unchanged(
        conn: &mut DbConnection,
        client_id: &str,
        updated_at: NaiveDateTime,
    ) -> Result<bool, DbError> {
        Ok(native!(conn, |conn| diesel::select(diesel::dsl::exists(
            clients::table
                .filter(clients::client_id.eq(client_id))
                .filter(clients::updated_at.eq(updated_at))
                .filter(clients::disabled_at.is_null()),
        ))
        .get_result(conn))?)
    }

    pub fn list(conn: &mut DbConnection) -> Result<Vec<Client>, DbError> {
        Ok(native!(conn, |conn| clients::table
            .order(clients::created_at.asc())
            .select(Client::as_select())
            .load(conn))?)
    }

    /// Returns whether the client existed.
    pub fn set_disabled(
        conn: &mut DbConnection,
        client_id: &str,
        disabled_at: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> Result<bool, DbError> {
        Ok(
            native!(conn, |conn| diesel::update(clients::table.find(client_id))
                .set((
                    clients::disabled_at.eq(disabled_at),
                    clients::updated_at.eq(now),
                ))
                .execute(conn))?
                > 0,
        )
    }

    /// Returns whether the client existed (and was confidential).
    pub fn set_secret_hash(
        conn: &mut DbConnection,
        client_id: &str,
        secret_hash: &str,
        now: NaiveDateTime,
    ) -> Result<bool, DbError> {
        Ok(native!(conn, |conn| diesel::update(
            clients::table
                .find(client_id)
                .filter(clients::is_public.eq(false)),
        )
        .set((
            clients::secret_hash.eq(secret_hash),
            clients::updated_at.eq(now),
        ))
        .execute(conn))?
            > 0)
    }
}
