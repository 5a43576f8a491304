-- Every AI run as a bundle (docs/ai.md): what it was asked, each model turn and tool call, the
-- output, model, tokens, cost and outcome; bundle_sha256 is also in the audit chain.
CREATE TABLE ai_runs (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id),
    purpose         text NOT NULL,
    agent           text,
    incident_id     text,
    model           text,
    outcome         text NOT NULL,
    outcome_reason  text,
    input_tokens    bigint NOT NULL,
    output_tokens   bigint NOT NULL,
    cost            numeric,
    tool_calls      bigint NOT NULL,
    latency_ms      bigint NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    actor           text NOT NULL,
    bundle          text NOT NULL,
    bundle_sha256   text NOT NULL
);
CREATE INDEX ai_runs_tenant_started ON ai_runs (tenant_id, started_at);
CREATE INDEX ai_runs_tenant_incident ON ai_runs (tenant_id, incident_id);

-- medic ask: a person's conversations with an ops agent (their turns, redacted), per tenant and user.
CREATE TABLE ai_sessions (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    owner       text NOT NULL,
    title       text NOT NULL,
    model       text,
    messages    text NOT NULL,
    turns       INTEGER NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX ai_sessions_owner ON ai_sessions (tenant_id, owner, updated_at);
