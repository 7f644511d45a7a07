//! `signing_keys`: the keys that sign access and ID tokens, shared by every instance.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::signing_keys;

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys, treat_none_as_default_value = false)]
pub struct SigningKeyRow {
    pub kid: String,
    pub alg: String,
    /// The public key as a JWK (JSON), published in the JWKS.
    pub public_jwk: String,
    /// `v1:` + encrypted PKCS#8, or `plain:` + PKCS#8 in development.
    pub private_key: String,
    pub created_at: NaiveDateTime,
    pub retire_after: Option<NaiveDateTime>,
}

impl std::fmt::Debug for SigningKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRow")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("retire_after", &self.retire_after)
            .finish_non_exhaustive()
    }
}

impl SigningKeyRow {
    pub fn insert(conn: &mut DbConnection, row: &SigningKeyRow) -> Result<(), DbError> {
        native!(conn, |conn| diesel::insert_into(signing_keys::table)
            .values(row)
            .execute(conn))?;
        Ok(())
    }

    /// Keys still published at `now` (not retired), newest first: the first one signs.
    pub fn published(
        conn: &mut DbConnection,
        now: NaiveDateTime,
    ) -> Result<Vec<SigningKeyRow>, DbError> {
        Ok(native!(conn, |conn| signing_keys::table
            .filter(
                signing_keys::retire_after
                    .is_null()
                    .or(signing_keys::retire_after.gt(now)),
            )
            .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
            .select(SigningKeyRow::as_select())
            .load(conn))?)
    }

    /// Schedules every published key but those in `keep` to leave the JWKS at
    /// `retire_after` (unless it is scheduled to leave earlier already).
    pub fn retire_all_but(
        conn: &mut DbConnection,
        keep: &[&str],
        retire_after: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(native!(conn, |conn| diesel::update(
            signing_keys::table
                .filter(signing_keys::kid.ne_all(keep))
                .filter(
                    signing_keys::retire_after
                        .is_null()
                        .or(signing_keys::retire_after.gt(retire_after)),
                ),
        )
        .set(signing_keys::retire_after.eq(retire_after))
        .execute(conn))?)
    }

    /// Replaces a stored private key (with the same key, sealed differently).
    pub fn set_private_key(
        conn: &mut DbConnection,
        kid: &str,
        private_key: &str,
    ) -> Result<(), DbError> {
        native!(conn, |conn| diesel::update(signing_keys::table.find(kid))
            .set(signing_keys::private_key.eq(private_key))
            .execute(conn))?;
        Ok(())
    }

    /// Every key, newest first (in the order of `published`).
    pub fn all(conn: &mut DbConnection) -> Result<Vec<SigningKeyRow>, DbError> {
        Ok(native!(conn, |conn| signing_keys::table
            .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
            .select(SigningKeyRow::as_select())
            .load(conn))?)
    }
}
