-- OpenID Connect logout. Where a client may send a person after RP-initiated logout
-- (RP-Initiated Logout 1.0 §3: registered exactly, like redirect URIs; space-separated),
-- and where it receives logout tokens when a session ends (Back-Channel Logout 1.0 §2.2).
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
