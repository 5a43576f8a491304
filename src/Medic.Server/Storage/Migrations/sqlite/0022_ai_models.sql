-- Model entries per tenant (several rows may share a name: used round-robin), token use per call, and the monthly budget.
CREATE TABLE ai_models (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    name             TEXT NOT NULL,
    provider         TEXT NOT NULL,
    model            TEXT NOT NULL,
    base_url         TEXT,
    key_secret       TEXT,
    fallback         TEXT,
    timeout_seconds  INTEGER NOT NULL,
    price_in         REAL,
    price_out        REAL,
    added_by         TEXT NOT NULL,
    added_at         TEXT NOT NULL
);
CREATE INDEX ai_models_by_name ON ai_models (tenant_id, name);

CREATE TABLE ai_usage (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    agent          TEXT,
    run_id         TEXT,
    model_name     TEXT NOT NULL,
    input_tokens   INTEGER NOT NULL,
    output_tokens  INTEGER NOT NULL,
    cost_usd       REAL NOT NULL,
    at             TEXT NOT NULL
);
CREATE INDEX ai_usage_by_time ON ai_usage (tenant_id, at);

CREATE TABLE ai_budgets (
    tenant_id    TEXT PRIMARY KEY REFERENCES tenants (id),
    monthly_usd  REAL NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
