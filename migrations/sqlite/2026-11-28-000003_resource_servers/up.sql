-- Resource servers are confidential clients that may introspect any token (RFC 7662 §2.1).
ALTER TABLE clients ADD COLUMN is_resource_server BOOLEAN NOT NULL DEFAULT FALSE;
