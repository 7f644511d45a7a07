//! `tasks`: the task API's rows. Every query takes the owner's id, so one user can never
//! read or change another's task (SECURITY.md 21).

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::tasks;

/// A task's status: what the API accepts and shows, stored by name in `tasks.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Pending,
    InProgress,
    Completed,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 3] = [Self::Pending, Self::InProgress, Self::Completed];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
        }
    }
}

/// A name that is not a task status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a task status")]
pub struct UnknownTaskStatus(pub String);

impl FromStr for TaskStatus {
    type Err = UnknownTaskStatus;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| UnknownTaskStatus(value.to_owned()))
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = tasks, treat_none_as_default_value = false)]
pub struct Task {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    /// A `TaskStatus` name.
    pub status: String,
    pub priority: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a list may be narrowed to.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub priority: Option<i32>,
}

/// The fields an update writes (all of them for PUT, the sent ones for PATCH).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = tasks)]
pub struct TaskChanges {
    pub title: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    /// A `TaskStatus` name.
    pub status: Option<String>,
    pub priority: Option<i32>,
    pub updated_at: NaiveDateTime,
}

impl Task {
    pub fn insert(conn: &mut DbConnection, task: &Task) -> Result<(), DbError> {
        native!(conn, |conn| diesel::insert_into(tasks::table)
            .values(task)
            .execute(conn))?;
        Ok(())
    }

    pub fn find_owned(
        conn: &mut DbConnection,
        user_id: &str,
        id: &str,
    ) -> Result<Option<Task>, DbError> {
        Ok(native!(conn, |conn| tasks::table
            .filter(tasks::id.eq(id))
            .filter(tasks::user_id.eq(user_id))
            .select(Task::as_select())
            .get_result(conn))
        .optional()?)
    }

    /// One page of the user's tasks, newest first, and the total matching the filter.
    ///
    /// The total rides along with each row as an uncorrelated scalar subquery, which both
    /// databases evaluate once, so a page is one statement — and, written without SQL
    /// literals, one that diesel prepares once per connection and reuses (on SQLite thanks
    /// to the query-planner stability guarantee it is built with: see `.cargo/config.toml`).
    pub fn page(
        conn: &mut DbConnection,
        user_id: &str,
        filter: &TaskFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Task>, i64), DbError> {
        // The boxed query names its backend, so the whole page is built per backend.
        native!(conn, |conn| {
            let filtered = || {
                let mut query = tasks::table
                    .filter(tasks::user_id.eq(user_id.to_owned()))
                    .into_boxed();
                if let Some(status) = filter.status {
                    query = query.filter(tasks::status.eq(status.as_str()));
                }
                if let Some(priority) = filter.priority {
                    query = query.filter(tasks::priority.eq(priority));
                }
                query
            };
            let rows: Vec<(Task, Option<i64>)> = filtered()
                .order((tasks::created_at.desc(), tasks::id.desc()))
                .offset(offset)
                .limit(limit)
                .select((Task::as_select(), filtered().count().single_value()))
                .load(conn)?;
            let total = match rows.first() {
                Some((_, total)) => total.unwrap_or_default(),
                None if offset == 0 => 0,
                // A page past the end has no row to carry the total, so count apart.
                None => filtered().count().get_result(conn)?,
            };
            Ok((rows.into_iter().map(|(task, _)| task).collect(), total))
        })
    }

    /// Applies changes to the user's task; `None` when there is no such task of theirs.
    pub fn update_owned(
        conn: &mut DbConnection,
        user_id: &str,
        id: &str,
        changes: &TaskChanges,
    ) -> Result<Option<Task>, DbError> {
        let updated = native!(conn, |conn| diesel::update(
            tasks::table
                .filter(tasks::id.eq(id))
                .filter(tasks::user_id.eq(user_id)),
        )
        .set(changes)
        .execute(conn))?;
        if updated == 0 {
            return Ok(None);
        }
        Self::find_owned(conn, user_id, id)
    }

    /// Returns whether the user's task existed.
    pub fn delete_owned(conn: &mut DbConnection, user_id: &str, id: &str) -> Result<bool, DbError> {
        Ok(native!(conn, |conn| diesel::delete(
            tasks::table
                .filter(tasks::id.eq(id))
                .filter(tasks::user_id.eq(user_id)),
        )
        .execute(conn))?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_and_print_their_stored_names() {
        for status in TaskStatus::ALL {
            assert_eq!(status.as_str().parse::<TaskStatus>(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
        }
        assert_eq!(TaskStatus::InProgress.as_str(), "in_progress");
        assert!("done".parse::<TaskStatus>().is_err());
        assert!("Pending".parse::<TaskStatus>().is_err());
    }
}
