-- Fleet executions and their per-server results.
CREATE TABLE executions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    actor        TEXT NOT NULL,
    command      TEXT NOT NULL,
    targets      TEXT NOT NULL,
    strategy     TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE INDEX executions_tenant ON executions (tenant_id, created_at);

CREATE TABLE execution_results (
    execution_id TEXT NOT NULL REFERENCES executions (id),
    tenant_id    TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    server       TEXT NOT NULL,
    status       TEXT NOT NULL,
    exit_code    INTEGER,
    duration_ms  INTEGER NOT NULL,
    truncated    INTEGER NOT NULL,
    reason       TEXT,
    stdout       TEXT NOT NULL,
    stderr       TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    PRIMARY KEY (execution_id, server)
);
