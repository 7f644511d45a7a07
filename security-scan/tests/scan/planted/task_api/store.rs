//! The planted task store: every user's tasks in an in-memory SQLite database, queried
//! with SQL written by hand — bound parameters everywhere but in one place.

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{Connection as _, QueryableByName, RunQueryDsl as _, SqliteConnection, sql_query};
use serde::{Deserialize, Serialize};

use crate::planted::values::now;

#[derive(Debug, Clone, Serialize, Deserialize, QueryableByName)]
pub struct Task {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[serde(skip)]
    #[diesel(sql_type = Text)]
    pub owner: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = BigInt)]
    pub priority: i64,
    #[diesel(sql_type = BigInt)]
    pub created_at: i64,
    #[diesel(sql_type = BigInt)]
    pub updated_at: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

pub type StoreResult<T> = Result<T, diesel::result::Error>;

const COLUMNS: &str = "id, owner, title, description, status, priority, created_at, updated_at";

/// Every task of every user.
pub struct TaskStore {
    db: SqliteConnection,
}

impl TaskStore {
    /// A fresh, empty store.
    pub fn open() -> Self {
        let mut db = SqliteConnection::establish(":memory:").expect("an in-memory SQLite");
        sql_query(
            "CREATE TABLE tasks (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                owner TEXT NOT NULL,
                title TEXT NOT NULL,
                description TEXT,
                status TEXT NOT NULL,
                priority INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            )",
        )
        .execute(&mut db)
        .expect("the tasks table");
        Self { db }
    }

    pub fn create(
        &mut self,
        owner: &str,
        title: &str,
        description: Option<&str>,
    ) -> StoreResult<Task> {
        let at = now();
        sql_query(format!(
            "INSERT INTO tasks (owner, title, description, status, priority, created_at, \
             updated_at) VALUES (?, ?, ?, 'pending', 3, ?, ?) RETURNING {COLUMNS}"
        ))
        .bind::<Text, _>(owner)
        .bind::<Text, _>(title)
        .bind::<Nullable<Text>, _>(description)
        .bind::<BigInt, _>(at)
        .bind::<BigInt, _>(at)
        .get_result(&mut self.db)
    }

    /// `owner`'s tasks whose title contains `search`, on page `page` (from 1) of `limit`,
    /// and how many tasks `owner` has; every task of every owner when `owner` is `None`.
    pub fn list(
        &mut self,
        owner: Option<&str>,
        search: &str,
        page: i64,
        limit: i64,
    ) -> StoreResult<(Vec<Task>, i64)> {
        // PLANTED injection.sql_errors, injection.sql_timing: "LIKE patterns cannot be
        // bound" — so the search text is pasted into the SQL between quotes, where a `'`
        // ends the string and what follows it is SQL.
        let tasks = sql_query(format!(
            "SELECT {COLUMNS} FROM tasks
             WHERE (owner = ? OR ? IS NULL)
               AND title LIKE '%{search}%'
             ORDER BY id
             LIMIT ? OFFSET ?"
        ))
        .bind::<Nullable<Text>, _>(owner)
        .bind::<Nullable<Text>, _>(owner)
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(page.saturating_sub(1).saturating_mul(limit))
        .load(&mut self.db)?;
        let total: Count =
            sql_query("SELECT count(*) AS count FROM tasks WHERE owner = ? OR ? IS NULL")
                .bind::<Nullable<Text>, _>(owner)
                .bind::<Nullable<Text>, _>(owner)
                .get_result(&mut self.db)?;
        Ok((tasks, total.count))
    }

    // PLANTED authorization.idor: a task is found by its id alone, whoever owns it — and
    // ids are sequential.
    pub fn find(&mut self, id: i64) -> StoreResult<Option<Task>> {
        let mut found: Vec<Task> = sql_query(format!("SELECT {COLUMNS} FROM tasks WHERE id = ?"))
            .bind::<BigInt, _>(id)
            .load(&mut self.db)?;
        Ok(found.pop())
    }

    /// Writes every field of `task` (the owner excepted) back to its row.
    pub fn save(&mut self, task: &Task) -> StoreResult<()> {
        sql_query(
            "UPDATE tasks SET title = ?, description = ?, status = ?, priority = ?, \
             created_at = ?, updated_at = ? WHERE id = ?",
        )
        .bind::<Text, _>(&task.title)
        .bind::<Nullable<Text>, _>(task.description.as_deref())
        .bind::<Text, _>(&task.status)
        .bind::<BigInt, _>(task.priority)
        .bind::<BigInt, _>(task.created_at)
        .bind::<BigInt, _>(task.updated_at)
        .bind::<BigInt, _>(task.id)
        .execute(&mut self.db)?;
        Ok(())
    }

    pub fn delete(&mut self, id: i64) -> StoreResult<bool> {
        let deleted = sql_query("DELETE FROM tasks WHERE id = ?")
            .bind::<BigInt, _>(id)
            .execute(&mut self.db)?;
        Ok(deleted > 0)
    }
}
