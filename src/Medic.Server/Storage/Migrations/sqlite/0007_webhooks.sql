-- Per-tenant credentials of the alert webhooks, sealed with the master key (AES-256-GCM).
-- kind: signing_secret (HMAC-SHA256 key) or bearer_token. The current one of each kind has no
-- expires_at; a rotated-out one keeps working until its expires_at.
CREATE TABLE webhook_credentials (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    kind        TEXT NOT NULL,
    sealed      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT
);
CREATE INDEX webhook_credentials_tenant ON webhook_credentials (tenant_id, kind);
CREATE UNIQUE INDEX webhook_credentials_current ON webhook_credentials (tenant_id, kind) WHERE expires_at IS NULL;
