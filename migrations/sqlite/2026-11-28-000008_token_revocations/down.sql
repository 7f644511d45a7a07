CREATE INDEX access_tokens_revoked_at_idx ON access_tokens (revoked_at);
DROP TRIGGER access_token_revoked;
DROP TABLE token_revocations;
