-- Webhooks as operators run them: credentials an admin sets for one source (a signing secret the
-- sender generated, or HTTP basic auth), each source's recent deliveries and refusal counters, and
-- silences.

-- kind: signing_secret or basic_auth (sealed "username:password"). Sealed with the master key.
CREATE TABLE webhook_source_credentials (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    source      text NOT NULL,
    kind        text NOT NULL,
    sealed      text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX webhook_source_credentials_current ON webhook_source_credentials (tenant_id, source, kind);

-- The last deliveries of each source (pruned to a bounded number), never the body or a secret.
CREATE TABLE webhook_deliveries (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id),
    source          text NOT NULL,
    at              timestamptz NOT NULL,
    status          integer NOT NULL,
    outcome         text NOT NULL,
    auth            text,
    client_address  text,
    alerts          integer NOT NULL,
    detail          text
);
CREATE INDEX webhook_deliveries_source ON webhook_deliveries (tenant_id, source, seq);

-- Refusals counted by reason since the tenant's first delivery (never pruned).
CREATE TABLE webhook_refusal_counts (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    source      text NOT NULL,
    reason      text NOT NULL,
    count       bigint NOT NULL,
    last_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, source, reason)
);

-- matchers: JSON list of {name, op, value}; op is =, !=, =~ or !~ (Alertmanager's).
-- Expiring a silence sets ends_at to the moment it was expired.
CREATE TABLE silences (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    matchers    text NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    created_by  text NOT NULL,
    comment     text NOT NULL,
    created_at  timestamptz NOT NULL,
    expired_by  text
);
CREATE INDEX silences_tenant_ends ON silences (tenant_id, ends_at);

-- Incidents opened or reopened under a silence: when a later signal is no longer silenced, the
-- incident enters the pipeline and is notified then.
CREATE TABLE silenced_incidents (
    incident_id text PRIMARY KEY REFERENCES incidents (id),
    tenant_id   text NOT NULL REFERENCES tenants (id),
    silence_id  text NOT NULL REFERENCES silences (id),
    action      text NOT NULL
);
