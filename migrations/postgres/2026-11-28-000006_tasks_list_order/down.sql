CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at);
DROP INDEX tasks_user_created_id_idx;
