-- The remediation pipeline: which round of the pipeline an incident is in, what was proposed and
-- decided for it, approvals waiting on people, per-tenant automation settings and change windows.
ALTER TABLE incidents ADD COLUMN pipeline_round integer NOT NULL DEFAULT 0;

CREATE TABLE remediations (
    id           text PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    incident_id  text NOT NULL REFERENCES incidents (id),
    round        integer NOT NULL,
    runbook      text NOT NULL,
    version      integer NOT NULL,
    risk         text NOT NULL,
    params       text NOT NULL,
    server_id    text,
    server_name  text,
    proposed_by  text NOT NULL,
    trust        text NOT NULL,
    gate         text NOT NULL,
    gate_reason  text NOT NULL,
    status       text NOT NULL,
    run_id       text,
    verification text,
    error        text,
    created_at   timestamptz NOT NULL,
    finished_at  timestamptz
);
CREATE UNIQUE INDEX remediations_round ON remediations (incident_id, round);
CREATE INDEX remediations_tenant ON remediations (tenant_id, created_at);
CREATE INDEX remediations_breaker ON remediations (tenant_id, server_id, runbook, status, finished_at);

CREATE TABLE approvals (
    id             text PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants (id),
    incident_id    text NOT NULL REFERENCES incidents (id),
    remediation_id text NOT NULL REFERENCES remediations (id),
    requested_by   text NOT NULL,
    reason         text NOT NULL,
    status         text NOT NULL,
    expires_at     timestamptz NOT NULL,
    decided_by     text,
    decided_at     timestamptz,
    comment        text,
    created_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX approvals_remediation ON approvals (remediation_id);
CREATE INDEX approvals_tenant ON approvals (tenant_id, status, created_at);

CREATE TABLE pipeline_settings (
    tenant_id             text PRIMARY KEY REFERENCES tenants (id),
    automation            boolean NOT NULL,
    blast_radius_per_hour integer NOT NULL,
    approval_ttl_seconds  integer NOT NULL,
    triage_rules          text,
    updated_by            text NOT NULL,
    updated_at            timestamptz NOT NULL
);

CREATE TABLE change_windows (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    reason     text NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX change_windows_tenant ON change_windows (tenant_id, ends_at);
