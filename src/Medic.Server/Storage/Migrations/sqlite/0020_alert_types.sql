-- A tenant's rules that give alerts from webhooks an incident type (tried by name, before the built-in ones).
CREATE TABLE alert_type_rules (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    rule        TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
