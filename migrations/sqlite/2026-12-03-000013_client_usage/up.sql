-- When each client last authenticated at /token, /revoke or /introspect, to the hour:
-- `auth-server doctor` names confidential clients unused for 90 days (a secret nobody uses
-- is a standing credential). Each instance writes at most once an hour per client.
CREATE TABLE client_usage (
    client_id TEXT PRIMARY KEY NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    last_used_at TIMESTAMP NOT NULL
);
