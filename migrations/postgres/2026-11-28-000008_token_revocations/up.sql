-- The revocation feed the task API follows (SECURITY.md 19): one row per revoked access
-- token, numbered by the database in commit order, so a poller that remembers the last
-- number it read misses nothing, whatever the servers' clocks say. Rows are appended by
-- the trigger below, by every statement that revokes an access token, and pruned once no
-- verifier accepts the token anymore (`expires_at` plus the verifiers' leeway).
CREATE TABLE token_revocations (
    seq BIGSERIAL PRIMARY KEY,
    jti TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX token_revocations_expires_at_idx ON token_revocations (expires_at);

-- Numbers are handed out when a row is inserted, but transactions may commit in another
-- order: one that took 5 could commit after one that took 6, and a poller that had read
-- up to 6 would skip 5. So the append waits for the table lock, which only appenders
-- contend for (SHARE ROW EXCLUSIVE does not block readers), and holds it until commit:
-- numbers are then taken in commit order. The trigger is deferred to commit, so the lock
-- is the last thing a revoking transaction takes (no row lock is ever waited for while
-- holding it, hence no deadlock), whichever code did the revoking.
CREATE FUNCTION append_token_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE token_revocations IN SHARE ROW EXCLUSIVE MODE;
    INSERT INTO token_revocations (jti, expires_at) VALUES (NEW.jti, NEW.expires_at);
    RETURN NULL;
END;
$$;

-- Created before the backfill: it locks `access_tokens` against writes until this
-- migration commits, so a revocation is either backfilled or appended, never neither.
CREATE CONSTRAINT TRIGGER access_token_revoked
    AFTER UPDATE OF revoked_at ON access_tokens
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION append_token_revocation();

-- Tokens revoked before: all of them (housekeeping prunes the expired ones).
INSERT INTO token_revocations (jti, expires_at)
SELECT jti, expires_at FROM access_tokens
WHERE revoked_at IS NOT NULL
ORDER BY revoked_at, jti;

-- The list was read by `revoked_at`; it no longer is.
DROP INDEX access_tokens_revoked_at_idx;
