-- A tenant's operator-defined AI tools (docs/ai-tools.md): definition is the validated template as
-- JSON (program and args, or the URL; the typed parameters; timeout and output limit).
CREATE TABLE ai_tools (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    kind        text NOT NULL,
    definition  text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
