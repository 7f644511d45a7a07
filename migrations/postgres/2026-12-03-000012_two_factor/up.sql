-- TOTP two-factor sign-in (RFC 6238). `secret` is the shared key sealed under
-- KEY_ENCRYPTION_KEY (ChaCha20-Poly1305, bound to the user id) or, in development without
-- that secret, stored plain. `confirmed_at` NULL: enrolment started, not yet confirmed by a
-- first code (it does not guard sign-in). `last_used_step` is the highest time step
-- accepted, so no code is accepted twice (RFC 6238 §5.2).
CREATE TABLE totp_factors (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    last_used_step BIGINT NOT NULL DEFAULT 0
);

-- Single-use recovery codes, shown once; only their SHA-256 is kept.
CREATE TABLE recovery_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);

-- When the session's person last proved the second factor (NULL: password only). A code
-- and its grant remember whether the approving sign-in had it (the ID token's `amr`).
ALTER TABLE sessions ADD COLUMN second_factor_at TIMESTAMP;
ALTER TABLE authorization_codes ADD COLUMN second_factor BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE grants ADD COLUMN second_factor BOOLEAN NOT NULL DEFAULT FALSE;

-- `clients create --require-mfa`: this client's authorizations need the second factor.
ALTER TABLE clients ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;
