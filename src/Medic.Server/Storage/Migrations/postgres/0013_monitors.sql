-- Agent monitors set on the control plane, for one server or for every server with some tags.
CREATE TABLE monitors (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    server_id   text,
    tags        text,
    definition  text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    removed_at  timestamptz
);
CREATE UNIQUE INDEX monitors_tenant_name ON monitors (tenant_id, name) WHERE removed_at IS NULL;
