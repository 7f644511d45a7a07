-- The revocation feed the task API follows (SECURITY.md 19): one row per revoked access
-- token, numbered by the database in commit order, so a poller that remembers the last
-- number it read misses nothing, whatever the servers' clocks say. Rows are appended by
-- the trigger below, by every statement that revokes an access token, and pruned once no
-- verifier accepts the token anymore (`expires_at` plus the verifiers' leeway).
-- AUTOINCREMENT: a number is never handed out again, even after the newest rows are pruned.
CREATE TABLE token_revocations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    jti TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX token_revocations_expires_at_idx ON token_revocations (expires_at);

-- SQLite has one writer at a time, and a transaction keeps the writer lock from its first
-- write until it commits: numbers are taken in commit order without more locking.
CREATE TRIGGER access_token_revoked
    AFTER UPDATE OF revoked_at ON access_tokens
    FOR EACH ROW
    WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
    INSERT INTO token_revocations (jti, expires_at) VALUES (NEW.jti, NEW.expires_at);
END;

-- Tokens revoked before: all of them (housekeeping prunes the expired ones).
INSERT INTO token_revocations (jti, expires_at)
SELECT jti, expires_at FROM access_tokens
WHERE revoked_at IS NOT NULL
ORDER BY revoked_at, jti;

-- The list was read by `revoked_at`; it no longer is.
DROP INDEX access_tokens_revoked_at_idx;
