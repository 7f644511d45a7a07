-- The list's order is (created_at DESC, id DESC). With id in the index, a page is read
-- straight off the index and the scan stops at the page's end, instead of sorting every
-- task of the user on each request.
CREATE INDEX tasks_user_created_id_idx ON tasks (user_id, created_at, id);
DROP INDEX tasks_user_created_idx;
