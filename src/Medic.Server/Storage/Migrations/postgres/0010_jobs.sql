-- Durable work (pipeline steps, notification deliveries): a row per job, leased by a worker.
CREATE TABLE jobs (
    id              text PRIMARY KEY,
    tenant_id       text REFERENCES tenants (id),
    kind            text NOT NULL,
    idempotency_key text NOT NULL UNIQUE,
    payload         text NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    max_attempts    integer NOT NULL,
    run_after       timestamptz NOT NULL,
    lease_owner     text,
    lease_until     timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL,
    finished_at     timestamptz
);
CREATE INDEX jobs_due ON jobs (status, run_after);
