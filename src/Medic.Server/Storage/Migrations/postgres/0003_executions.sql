-- Fleet executions and their per-server results.
CREATE TABLE executions (
    id           text PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    actor        text NOT NULL,
    command      text NOT NULL,
    targets      text NOT NULL,
    strategy     text NOT NULL,
    status       text NOT NULL,
    created_at   timestamptz NOT NULL,
    finished_at  timestamptz
);
CREATE INDEX executions_tenant ON executions (tenant_id, created_at);

CREATE TABLE execution_results (
    execution_id text NOT NULL REFERENCES executions (id),
    tenant_id    text NOT NULL,
    task_id      text NOT NULL,
    server       text NOT NULL,
    status       text NOT NULL,
    exit_code    integer,
    duration_ms  bigint NOT NULL,
    truncated    boolean NOT NULL,
    reason       text,
    stdout       text NOT NULL,
    stderr       text NOT NULL,
    finished_at  timestamptz NOT NULL,
    PRIMARY KEY (execution_id, server)
);
