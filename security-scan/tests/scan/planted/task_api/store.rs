//! The planted task store: every user's tasks, in memory.

use serde::Serialize;

use crate::planted::values::now;

#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: u64,
    #[serde(skip)]
    pub owner: String,
    pub title: String,
    pub description: Option<String>,
    pub status: String,
    pub priority: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Every task of every user.
#[derive(Debug, Default)]
pub struct TaskStore {
    last_id: u64,
    tasks: Vec<Task>,
}

impl TaskStore {
    pub fn create(&mut self, owner: &str, title: String, description: Option<String>) -> Task {
        self.last_id += 1;
        let task = Task {
            id: self.last_id,
            owner: owner.to_owned(),
            title,
            description,
            status: "pending".into(),
            priority: 3,
            created_at: now(),
            updated_at: now(),
        };
        self.tasks.push(task.clone());
        task
    }

    /// `owner`'s tasks on page `page` (from 1) of `limit`, and how many there are.
    pub fn list(&self, owner: &str, page: u32, limit: u32) -> (Vec<Task>, usize) {
        let own: Vec<&Task> = self.tasks.iter().filter(|t| t.owner == owner).collect();
        let skip = usize::try_from(page.saturating_sub(1).saturating_mul(limit)).unwrap_or(0);
        let take = usize::try_from(limit).unwrap_or(0);
        let shown = own
            .iter()
            .skip(skip)
            .take(take)
            .map(|t| (*t).clone())
            .collect();
        (shown, own.len())
    }

    // PLANTED (for the authorization group's IDOR check, to come): a task is found by
    // its id alone, whoever owns it — and ids are sequential.
    pub fn find_mut(&mut self, id: u64) -> Option<&mut Task> {
        self.tasks.iter_mut().find(|t| t.id == id)
    }

    pub fn delete(&mut self, id: u64) -> bool {
        let before = self.tasks.len();
        self.tasks.retain(|t| t.id != id);
        self.tasks.len() != before
    }
}
