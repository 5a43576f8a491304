-- Enrollment tokens, managed servers (nodes) and their latest state.
CREATE TABLE enrollment_tokens (
    id           text PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    token_hash   text NOT NULL UNIQUE,
    prefix       text NOT NULL,
    tags         text NOT NULL,
    uses_allowed integer NOT NULL,
    uses         integer NOT NULL DEFAULT 0,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX enrollment_tokens_tenant ON enrollment_tokens (tenant_id);

CREATE TABLE nodes (
    id               text PRIMARY KEY,
    tenant_id        text NOT NULL REFERENCES tenants (id),
    name             text NOT NULL,
    credential_hash  text UNIQUE,
    tags             text NOT NULL,
    status           text NOT NULL,
    drained          boolean NOT NULL DEFAULT false,
    facts            text,
    metrics          text,
    enrolled_at      timestamptz NOT NULL,
    last_seen_at     timestamptz,
    status_changed_at timestamptz,
    removed_at       timestamptz
);
CREATE UNIQUE INDEX nodes_tenant_name ON nodes (tenant_id, name) WHERE removed_at IS NULL;
