-- Personal API keys for scripts: shown once, stored as SHA-256, scoped, always expiring.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    -- The first characters of the key, shown so a person can tell their keys apart.
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);
