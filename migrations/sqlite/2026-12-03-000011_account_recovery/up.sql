-- Accounts a person can recover. `email_verified_at` is when the current address was
-- proven by a link sent to it (NULL: not proven; changing the address clears it).
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMP;

-- Single-use links sent by mail: email verification and password reset. Only the token's
-- SHA-256 is kept. A verification names the address it proves (a link for an address
-- since changed is dead); a reset names a fingerprint of the password hash it was issued
-- against (a link dies when the password changes).
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    email TEXT,
    password_fingerprint TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX account_tokens_by_user ON account_tokens (user_id, purpose, created_at);
