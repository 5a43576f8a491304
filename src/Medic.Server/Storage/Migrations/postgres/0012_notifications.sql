-- Notifications: where a tenant's people are told (channels, secrets sealed), which incidents go
-- where (rules), every delivery with its outcome, and what each incident last told people.
CREATE TABLE notification_channels (
    id             text PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants (id),
    name           text NOT NULL,
    kind           text NOT NULL,
    settings       text NOT NULL,
    sealed_secrets text,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL,
    removed_at     timestamptz
);
CREATE UNIQUE INDEX notification_channels_tenant_name ON notification_channels (tenant_id, name) WHERE removed_at IS NULL;

CREATE TABLE notification_rules (
    id                text PRIMARY KEY,
    tenant_id         text NOT NULL REFERENCES tenants (id),
    name              text NOT NULL,
    min_severity      text NOT NULL,
    labels            text NOT NULL,
    source            text,
    server            text,
    events            text NOT NULL,
    channels          text NOT NULL,
    renotify_seconds  integer NOT NULL,
    renotify_severity text NOT NULL,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL,
    removed_at        timestamptz
);
CREATE UNIQUE INDEX notification_rules_tenant_name ON notification_rules (tenant_id, name) WHERE removed_at IS NULL;

CREATE TABLE notification_deliveries (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id),
    idempotency_key text NOT NULL UNIQUE,
    incident_id     text,
    approval_id     text,
    channel_id      text NOT NULL REFERENCES notification_channels (id),
    event           text NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz
);
CREATE INDEX notification_deliveries_tenant ON notification_deliveries (tenant_id, created_at);
CREATE INDEX notification_deliveries_incident ON notification_deliveries (tenant_id, incident_id);

CREATE TABLE notification_incident_state (
    incident_id        text PRIMARY KEY,
    tenant_id          text NOT NULL REFERENCES tenants (id),
    episode            integer NOT NULL,
    episode_started_at timestamptz NOT NULL,
    status             text NOT NULL,
    acknowledged       boolean NOT NULL,
    last_notified_at   timestamptz,
    updated_at         timestamptz NOT NULL
);
