-- Every AI run as a bundle (docs/ai.md): what it was asked, each model turn and tool call, the
-- output, model, tokens, cost and outcome; bundle_sha256 is also in the audit chain.
CREATE TABLE ai_runs (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    purpose         TEXT NOT NULL,
    agent           TEXT,
    incident_id     TEXT,
    model           TEXT,
    outcome         TEXT NOT NULL,
    outcome_reason  TEXT,
    input_tokens    INTEGER NOT NULL,
    output_tokens   INTEGER NOT NULL,
    cost            REAL,
    tool_calls      INTEGER NOT NULL,
    latency_ms      INTEGER NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT NOT NULL,
    actor           TEXT NOT NULL,
    bundle          TEXT NOT NULL,
    bundle_sha256   TEXT NOT NULL
);
CREATE INDEX ai_runs_tenant_started ON ai_runs (tenant_id, started_at);
CREATE INDEX ai_runs_tenant_incident ON ai_runs (tenant_id, incident_id);

-- medic ask: a person's conversations with an ops agent (their turns, redacted), per tenant and user.
CREATE TABLE ai_sessions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    owner       TEXT NOT NULL,
    title       TEXT NOT NULL,
    model       TEXT,
    messages    TEXT NOT NULL,
    turns       INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX ai_sessions_owner ON ai_sessions (tenant_id, owner, updated_at);
