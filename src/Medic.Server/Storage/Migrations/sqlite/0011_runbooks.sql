-- Runbooks: every applied version (tenant_id NULL: a built-in from the library), and runs with per-step, per-server results.
CREATE TABLE runbook_versions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT REFERENCES tenants (id),
    name         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    description  TEXT NOT NULL,
    risk         TEXT NOT NULL,
    content      TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    author       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX runbook_versions_tenant ON runbook_versions (tenant_id, name, version) WHERE tenant_id IS NOT NULL;
CREATE UNIQUE INDEX runbook_versions_builtin ON runbook_versions (name, version) WHERE tenant_id IS NULL;

CREATE TABLE runbook_runs (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    runbook         TEXT NOT NULL,
    version         INTEGER NOT NULL,
    source          TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    actor           TEXT NOT NULL,
    idempotency_key TEXT,
    params          TEXT NOT NULL,
    targets         TEXT NOT NULL,
    status          TEXT NOT NULL,
    error           TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE UNIQUE INDEX runbook_runs_idempotency ON runbook_runs (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX runbook_runs_tenant ON runbook_runs (tenant_id, created_at);

CREATE TABLE runbook_run_steps (
    run_id      TEXT NOT NULL REFERENCES runbook_runs (id),
    tenant_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    server      TEXT NOT NULL,
    step        INTEGER NOT NULL,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    phase       TEXT NOT NULL,
    status      TEXT NOT NULL,
    exit_code   INTEGER,
    duration_ms INTEGER NOT NULL,
    stdout      TEXT NOT NULL,
    stderr      TEXT NOT NULL,
    truncated   INTEGER NOT NULL,
    reason      TEXT,
    started_at  TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
