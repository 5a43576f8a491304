-- Per-tenant credentials of the alert webhooks, sealed with the master key (AES-256-GCM).
-- kind: signing_secret (HMAC-SHA256 key) or bearer_token. The current one of each kind has no
-- expires_at; a rotated-out one keeps working until its expires_at.
CREATE TABLE webhook_credentials (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    kind        text NOT NULL,
    sealed      text NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz
);
CREATE INDEX webhook_credentials_tenant ON webhook_credentials (tenant_id, kind);
CREATE UNIQUE INDEX webhook_credentials_current ON webhook_credentials (tenant_id, kind) WHERE expires_at IS NULL;
