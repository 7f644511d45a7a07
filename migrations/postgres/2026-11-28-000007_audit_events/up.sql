-- Security events kept for operators (SECURITY.md 30): who, from where, what happened.
-- No foreign keys: an event outlives the user or client it names.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT,
    client_id TEXT,
    ip TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_events_at_idx ON audit_events (at);
CREATE INDEX audit_events_kind_at_idx ON audit_events (kind, at);
CREATE INDEX audit_events_user_at_idx ON audit_events (user_id, at);
