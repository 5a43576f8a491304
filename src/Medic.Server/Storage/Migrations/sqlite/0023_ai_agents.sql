-- A tenant's AI agents (docs/ai-agents.md). roles, skills and tools are JSON arrays of names.
CREATE TABLE ai_agents (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    name            TEXT NOT NULL,
    trust           TEXT NOT NULL,
    roles           TEXT NOT NULL,
    system_prompt   TEXT NOT NULL,
    skills          TEXT NOT NULL,
    tools           TEXT NOT NULL,
    model           TEXT,
    patrol_seconds  INTEGER,
    enabled         INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_by      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- Which enabled agent holds each role: the primary key keeps it to one per role per tenant.
CREATE TABLE ai_agent_roles (
    tenant_id  TEXT NOT NULL,
    role       TEXT NOT NULL,
    agent      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, role),
    FOREIGN KEY (tenant_id, agent) REFERENCES ai_agents (tenant_id, name) ON DELETE CASCADE
);

-- A tenant's own skills; one named like a built-in skill replaces it for that tenant.
CREATE TABLE ai_skills (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    markdown    TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
