-- A tenant's AI agents (docs/ai-agents.md). roles, skills and tools are JSON arrays of names.
CREATE TABLE ai_agents (
    tenant_id       text NOT NULL REFERENCES tenants (id),
    name            text NOT NULL,
    trust           text NOT NULL,
    roles           text NOT NULL,
    system_prompt   text NOT NULL,
    skills          text NOT NULL,
    tools           text NOT NULL,
    model           text,
    patrol_seconds  bigint,
    enabled         boolean NOT NULL,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_by      text NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- Which enabled agent holds each role: the primary key keeps it to one per role per tenant.
CREATE TABLE ai_agent_roles (
    tenant_id  text NOT NULL,
    role       text NOT NULL,
    agent      text NOT NULL,
    PRIMARY KEY (tenant_id, role),
    FOREIGN KEY (tenant_id, agent) REFERENCES ai_agents (tenant_id, name) ON DELETE CASCADE
);

-- A tenant's own skills; one named like a built-in skill replaces it for that tenant.
CREATE TABLE ai_skills (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    markdown    text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
