-- Durable work (pipeline steps, notification deliveries): a row per job, leased by a worker.
CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT REFERENCES tenants (id),
    kind            TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL,
    run_after       TEXT NOT NULL,
    lease_owner     TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE INDEX jobs_due ON jobs (status, run_after);
