-- Runbooks: every applied version (tenant_id NULL: a built-in from the library), and runs with per-step, per-server results.
CREATE TABLE runbook_versions (
    id           text PRIMARY KEY,
    tenant_id    text REFERENCES tenants (id),
    name         text NOT NULL,
    version      integer NOT NULL,
    description  text NOT NULL,
    risk         text NOT NULL,
    content      text NOT NULL,
    content_hash text NOT NULL,
    author       text NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX runbook_versions_tenant ON runbook_versions (tenant_id, name, version) WHERE tenant_id IS NOT NULL;
CREATE UNIQUE INDEX runbook_versions_builtin ON runbook_versions (name, version) WHERE tenant_id IS NULL;

CREATE TABLE runbook_runs (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id),
    runbook         text NOT NULL,
    version         integer NOT NULL,
    source          text NOT NULL,
    content_hash    text NOT NULL,
    actor           text NOT NULL,
    idempotency_key text,
    params          text NOT NULL,
    targets         text NOT NULL,
    status          text NOT NULL,
    error           text,
    created_at      timestamptz NOT NULL,
    finished_at     timestamptz
);
CREATE UNIQUE INDEX runbook_runs_idempotency ON runbook_runs (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX runbook_runs_tenant ON runbook_runs (tenant_id, created_at);

CREATE TABLE runbook_run_steps (
    run_id      text NOT NULL REFERENCES runbook_runs (id),
    tenant_id   text NOT NULL,
    seq         integer NOT NULL,
    server      text NOT NULL,
    step        integer NOT NULL,
    name        text NOT NULL,
    type        text NOT NULL,
    phase       text NOT NULL,
    status      text NOT NULL,
    exit_code   integer,
    duration_ms bigint NOT NULL,
    stdout      text NOT NULL,
    stderr      text NOT NULL,
    truncated   boolean NOT NULL,
    reason      text,
    started_at  timestamptz NOT NULL,
    PRIMARY KEY (run_id, seq)
);
