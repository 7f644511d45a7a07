-- OAuth 2.0: clients, remembered consents, authorizations (grants), codes, tokens, keys.
-- Lists (redirect URIs, scopes, grant types) are stored space-separated: none of their
-- items may contain a space.
CREATE TABLE clients (
    client_id TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 of the client secret; NULL for public clients.
    secret_hash TEXT,
    name TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    scopes TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    is_public BOOLEAN NOT NULL,
    is_first_party BOOLEAN NOT NULL,
    require_pkce BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP
);

-- What a user has allowed an app, so consent is asked again only for new scopes.
CREATE TABLE consents (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- One row per authorization: the family every refresh and access token descends from.
-- Revoking it (code replay, refresh reuse, the user revoking the app) revokes them all.
CREATE TABLE grants (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX grants_user_client_idx ON grants (user_id, client_id);

CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    -- Whether the authorization request named the redirect URI (then the token request must).
    redirect_uri_in_request BOOLEAN NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    -- The authorization the exchange created: revoked if the code is replayed.
    grant_id TEXT REFERENCES grants (id) ON DELETE CASCADE
);
CREATE INDEX authorization_codes_expires_at_idx ON authorization_codes (expires_at);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    parent_hash TEXT,
    scope TEXT NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    idle_expires_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_grant_id_idx ON refresh_tokens (grant_id);

-- Every access token issued; the revoked, unexpired rows are the revocation list.
CREATE TABLE access_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT REFERENCES grants (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    user_id TEXT,
    scope TEXT NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX access_tokens_grant_id_idx ON access_tokens (grant_id);
CREATE INDEX access_tokens_revoked_at_idx ON access_tokens (revoked_at);

-- Token-signing keys, shared by every instance. `private_key` is encrypted with
-- KEY_ENCRYPTION_KEY ("v1:…"), or kept plain ("plain:…") in development without one.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- Set when a newer key takes over: the key stays published until then.
    retire_after TIMESTAMP
);
