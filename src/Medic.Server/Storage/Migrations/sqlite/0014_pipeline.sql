-- The remediation pipeline: which round of the pipeline an incident is in, what was proposed and
-- decided for it, approvals waiting on people, per-tenant automation settings and change windows.
ALTER TABLE incidents ADD COLUMN pipeline_round INTEGER NOT NULL DEFAULT 0;

CREATE TABLE remediations (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    round        INTEGER NOT NULL,
    runbook      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    risk         TEXT NOT NULL,
    params       TEXT NOT NULL,
    server_id    TEXT,
    server_name  TEXT,
    proposed_by  TEXT NOT NULL,
    trust        TEXT NOT NULL,
    gate         TEXT NOT NULL,
    gate_reason  TEXT NOT NULL,
    status       TEXT NOT NULL,
    run_id       TEXT,
    verification TEXT,
    error        TEXT,
    created_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE UNIQUE INDEX remediations_round ON remediations (incident_id, round);
CREATE INDEX remediations_tenant ON remediations (tenant_id, created_at);
CREATE INDEX remediations_breaker ON remediations (tenant_id, server_id, runbook, status, finished_at);

CREATE TABLE approvals (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    incident_id    TEXT NOT NULL REFERENCES incidents (id),
    remediation_id TEXT NOT NULL REFERENCES remediations (id),
    requested_by   TEXT NOT NULL,
    reason         TEXT NOT NULL,
    status         TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    decided_by     TEXT,
    decided_at     TEXT,
    comment        TEXT,
    created_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX approvals_remediation ON approvals (remediation_id);
CREATE INDEX approvals_tenant ON approvals (tenant_id, status, created_at);

CREATE TABLE pipeline_settings (
    tenant_id             TEXT PRIMARY KEY REFERENCES tenants (id),
    automation            INTEGER NOT NULL,
    blast_radius_per_hour INTEGER NOT NULL,
    approval_ttl_seconds  INTEGER NOT NULL,
    triage_rules          TEXT,
    updated_by            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);

CREATE TABLE change_windows (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    starts_at  TEXT NOT NULL,
    ends_at    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX change_windows_tenant ON change_windows (tenant_id, ends_at);
