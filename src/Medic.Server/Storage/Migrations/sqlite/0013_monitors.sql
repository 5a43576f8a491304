-- Agent monitors set on the control plane, for one server or for every server with some tags.
CREATE TABLE monitors (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    server_id   TEXT,
    tags        TEXT,
    definition  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    removed_at  TEXT
);
CREATE UNIQUE INDEX monitors_tenant_name ON monitors (tenant_id, name) WHERE removed_at IS NULL;
