//! `audit_events`: security events kept for operators (SECURITY.md 30). Written by the
//! background recorder in `crate::audit`, read by `auth-server audit list`, pruned after
//! `AUDIT_RETENTION`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError};
use crate::schema::audit_events;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
pub struct AuditEventRow {
    pub id: String,
    pub at: NaiveDateTime,
    /// What happened, e.g. `login_failure`, `code_replay`, `rate_limit_block`.
    pub kind: String,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    /// Anything else worth knowing, as a JSON object (never a secret).
    pub detail: String,
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub kind: Option<String>,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub limit: i64,
}

impl AuditEventRow {
    /// Writes a batch in one transaction (rows one by one: the multi-backend connection
    /// has no multi-row insert).
    pub fn insert_all(conn: &mut DbConnection, rows: &[AuditEventRow]) -> Result<(), DbError> {
        conn.transaction(|conn| {
            for row in rows {
                diesel::insert_into(audit_events::table)
                    .values(row)
                    .execute(conn)?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        Ok(())
    }

    /// The newest events matching the filter, newest first.
    pub fn list(
        conn: &mut DbConnection,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEventRow>, DbError> {
        let mut query = audit_events::table.into_boxed();
        if let Some(kind) = &filter.kind {
            query = query.filter(audit_events::kind.eq(kind.clone()));
        }
        if let Some(user_id) = &filter.user_id {
            query = query.filter(audit_events::user_id.eq(user_id.clone()));
        }
        if let Some(client_id) = &filter.client_id {
            query = query.filter(audit_events::client_id.eq(client_id.clone()));
        }
        if let Some(since) = filter.since {
            query = query.filter(audit_events::at.ge(since));
        }
        Ok(query
            .order((audit_events::at.desc(), audit_events::id.desc()))
            .limit(filter.limit)
            .select(AuditEventRow::as_select())
            .load(conn)?)
    }

    /// Deletes events older than `before`; returns how many.
    pub fn delete_older_than(
        conn: &mut DbConnection,
        before: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(
            diesel::delete(audit_events::table.filter(audit_events::at.lt(before)))
                .execute(conn)?,
        )
    }
}
