-- Console sessions kept on the server, so signing out or a password reset ends them for good:
-- the cookie only names a row here, and a row that is ended refuses the cookie.
CREATE TABLE console_sessions (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    user_id     text NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    end_reason  text
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- One row that /readyz rewrites to prove the database still accepts writes.
CREATE TABLE readiness_probe (
    id  integer PRIMARY KEY,
    at  timestamptz NOT NULL
);
