-- OpenID Connect Core 1.0 on top of the authorization-code flow.
-- The algorithm a client's ID tokens are signed with (Core §3.1.3.7 step 7, Dynamic Client
-- Registration's `id_token_signed_response_alg`): RS256 unless registered otherwise.
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256';

-- What the ID token of a code carries from its authorization request and sign-in: the
-- `nonce` sent (Core §3.1.2.1), when the person signed in (`auth_time`) and the session's
-- public id (`sid`, for logout).
ALTER TABLE authorization_codes ADD COLUMN nonce TEXT;
ALTER TABLE authorization_codes ADD COLUMN auth_time TIMESTAMP;
ALTER TABLE authorization_codes ADD COLUMN session_id TEXT;

-- The same of the authorization, for the ID tokens of its refreshes (Core §12.2: the same
-- `auth_time`) and its logout. No foreign key: the session ends before its grants do.
ALTER TABLE grants ADD COLUMN auth_time TIMESTAMP;
ALTER TABLE grants ADD COLUMN session_id TEXT;
