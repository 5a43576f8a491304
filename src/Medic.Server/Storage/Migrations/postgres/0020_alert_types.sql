-- A tenant's rules that give alerts from webhooks an incident type (tried by name, before the built-in ones).
CREATE TABLE alert_type_rules (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    rule        text NOT NULL,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
