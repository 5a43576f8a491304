-- Scheduled checks the control plane runs, and their recent results.
CREATE TABLE checks (
    id                   text PRIMARY KEY,
    tenant_id            text NOT NULL REFERENCES tenants (id),
    name                 text NOT NULL,
    kind                 text NOT NULL,
    target               text,
    server_id            text,
    command              text,
    expect_status        integer,
    body_regex           text,
    interval_seconds     integer NOT NULL,
    timeout_seconds      integer NOT NULL,
    failures             integer NOT NULL,
    severity             text NOT NULL,
    state                text NOT NULL,
    consecutive_failures integer NOT NULL DEFAULT 0,
    last_run_at          timestamptz,
    last_detail          text,
    next_run_at          timestamptz NOT NULL,
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL,
    removed_at           timestamptz
);
CREATE UNIQUE INDEX checks_tenant_name ON checks (tenant_id, name) WHERE removed_at IS NULL;
CREATE INDEX checks_due ON checks (next_run_at) WHERE removed_at IS NULL;

CREATE TABLE check_results (
    check_id    text NOT NULL REFERENCES checks (id),
    tenant_id   text NOT NULL,
    at          timestamptz NOT NULL,
    ok          boolean NOT NULL,
    duration_ms bigint NOT NULL,
    detail      text NOT NULL
);
CREATE INDEX check_results_check ON check_results (check_id, at);
