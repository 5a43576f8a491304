-- Scheduled checks the control plane runs, and their recent results.
CREATE TABLE checks (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants (id),
    name                 TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    target               TEXT,
    server_id            TEXT,
    command              TEXT,
    expect_status        INTEGER,
    body_regex           TEXT,
    interval_seconds     INTEGER NOT NULL,
    timeout_seconds      INTEGER NOT NULL,
    failures             INTEGER NOT NULL,
    severity             TEXT NOT NULL,
    state                TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_run_at          TEXT,
    last_detail          TEXT,
    next_run_at          TEXT NOT NULL,
    created_by           TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    removed_at           TEXT
);
CREATE UNIQUE INDEX checks_tenant_name ON checks (tenant_id, name) WHERE removed_at IS NULL;
CREATE INDEX checks_due ON checks (next_run_at) WHERE removed_at IS NULL;

CREATE TABLE check_results (
    check_id    TEXT NOT NULL REFERENCES checks (id),
    tenant_id   TEXT NOT NULL,
    at          TEXT NOT NULL,
    ok          INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX check_results_check ON check_results (check_id, at);
