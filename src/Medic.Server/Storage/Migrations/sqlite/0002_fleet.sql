-- Enrollment tokens, managed servers (nodes) and their latest state.
CREATE TABLE enrollment_tokens (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    tags         TEXT NOT NULL,
    uses_allowed INTEGER NOT NULL,
    uses         INTEGER NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX enrollment_tokens_tenant ON enrollment_tokens (tenant_id);

CREATE TABLE nodes (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    name             TEXT NOT NULL,
    credential_hash  TEXT UNIQUE,
    tags             TEXT NOT NULL,
    status           TEXT NOT NULL,
    drained          INTEGER NOT NULL DEFAULT 0,
    facts            TEXT,
    metrics          TEXT,
    enrolled_at      TEXT NOT NULL,
    last_seen_at     TEXT,
    status_changed_at TEXT,
    removed_at       TEXT
);
CREATE UNIQUE INDEX nodes_tenant_name ON nodes (tenant_id, name) WHERE removed_at IS NULL;
