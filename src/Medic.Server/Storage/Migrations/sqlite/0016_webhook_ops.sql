-- Webhooks as operators run them: credentials an admin sets for one source (a signing secret the
-- sender generated, or HTTP basic auth), each source's recent deliveries and refusal counters, and
-- silences.

-- kind: signing_secret or basic_auth (sealed "username:password"). Sealed with the master key.
CREATE TABLE webhook_source_credentials (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    sealed      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX webhook_source_credentials_current ON webhook_source_credentials (tenant_id, source, kind);

-- The last deliveries of each source (pruned to a bounded number), never the body or a secret.
CREATE TABLE webhook_deliveries (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    source          TEXT NOT NULL,
    at              TEXT NOT NULL,
    status          INTEGER NOT NULL,
    outcome         TEXT NOT NULL,
    auth            TEXT,
    client_address  TEXT,
    alerts          INTEGER NOT NULL,
    detail          TEXT
);
CREATE INDEX webhook_deliveries_source ON webhook_deliveries (tenant_id, source, seq);

-- Refusals counted by reason since the tenant's first delivery (never pruned).
CREATE TABLE webhook_refusal_counts (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    source      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    count       INTEGER NOT NULL,
    last_at     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, source, reason)
);

-- matchers: JSON list of {name, op, value}; op is =, !=, =~ or !~ (Alertmanager's).
-- Expiring a silence sets ends_at to the moment it was expired.
CREATE TABLE silences (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    matchers    TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    comment     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expired_by  TEXT
);
CREATE INDEX silences_tenant_ends ON silences (tenant_id, ends_at);

-- Incidents opened or reopened under a silence: when a later signal is no longer silenced, the
-- incident enters the pipeline and is notified then.
CREATE TABLE silenced_incidents (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    silence_id  TEXT NOT NULL REFERENCES silences (id),
    action      TEXT NOT NULL
);
