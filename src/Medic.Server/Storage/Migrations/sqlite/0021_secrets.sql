-- A tenant's named secrets (docs/secrets.md). The value is sealed with the master key (AES-256-GCM,
-- bound to tenant and name); nothing derived from it is stored but its length.
CREATE TABLE secrets (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    name         TEXT NOT NULL,
    sealed_value TEXT NOT NULL,
    length       INTEGER NOT NULL,
    description  TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
