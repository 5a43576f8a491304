-- Console sessions kept on the server, so signing out or a password reset ends them for good:
-- the cookie only names a row here, and a row that is ended refuses the cookie.
CREATE TABLE console_sessions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    ended_at    TEXT,
    end_reason  TEXT
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- One row that /readyz rewrites to prove the database still accepts writes.
CREATE TABLE readiness_probe (
    id  INTEGER PRIMARY KEY,
    at  TEXT NOT NULL
);
