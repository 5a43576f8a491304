-- Notifications: where a tenant's people are told (channels, secrets sealed), which incidents go
-- where (rules), every delivery with its outcome, and what each incident last told people.
CREATE TABLE notification_channels (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    settings       TEXT NOT NULL,
    sealed_secrets TEXT,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    removed_at     TEXT
);
CREATE UNIQUE INDEX notification_channels_tenant_name ON notification_channels (tenant_id, name) WHERE removed_at IS NULL;

CREATE TABLE notification_rules (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    name              TEXT NOT NULL,
    min_severity      TEXT NOT NULL,
    labels            TEXT NOT NULL,
    source            TEXT,
    server            TEXT,
    events            TEXT NOT NULL,
    channels          TEXT NOT NULL,
    renotify_seconds  INTEGER NOT NULL,
    renotify_severity TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    removed_at        TEXT
);
CREATE UNIQUE INDEX notification_rules_tenant_name ON notification_rules (tenant_id, name) WHERE removed_at IS NULL;

CREATE TABLE notification_deliveries (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    idempotency_key TEXT NOT NULL UNIQUE,
    incident_id     TEXT,
    approval_id     TEXT,
    channel_id      TEXT NOT NULL REFERENCES notification_channels (id),
    event           TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX notification_deliveries_tenant ON notification_deliveries (tenant_id, created_at);
CREATE INDEX notification_deliveries_incident ON notification_deliveries (tenant_id, incident_id);

CREATE TABLE notification_incident_state (
    incident_id        TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    episode            INTEGER NOT NULL,
    episode_started_at TEXT NOT NULL,
    status             TEXT NOT NULL,
    acknowledged       INTEGER NOT NULL,
    last_notified_at   TEXT,
    updated_at         TEXT NOT NULL
);
