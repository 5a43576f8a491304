-- A tenant's operator-defined AI tools (docs/ai-tools.md): definition is the validated template as
-- JSON (program and args, or the URL; the typed parameters; timeout and output limit).
CREATE TABLE ai_tools (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    definition  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
