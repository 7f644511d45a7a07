CREATE INDEX access_tokens_revoked_at_idx ON access_tokens (revoked_at);
DROP TRIGGER access_token_revoked ON access_tokens;
DROP FUNCTION append_token_revocation();
DROP TABLE token_revocations;
