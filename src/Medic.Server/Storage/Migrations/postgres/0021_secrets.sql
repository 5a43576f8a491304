-- A tenant's named secrets (docs/secrets.md). The value is sealed with the master key (AES-256-GCM,
-- bound to tenant and name); nothing derived from it is stored but its length.
CREATE TABLE secrets (
    tenant_id    text NOT NULL REFERENCES tenants (id),
    name         text NOT NULL,
    sealed_value text NOT NULL,
    length       integer NOT NULL,
    description  text NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_by   text NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
