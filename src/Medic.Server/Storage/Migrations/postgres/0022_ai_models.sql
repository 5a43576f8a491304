-- Model entries per tenant (several rows may share a name: used round-robin), token use per call, and the monthly budget.
CREATE TABLE ai_models (
    id               text PRIMARY KEY,
    tenant_id        text NOT NULL REFERENCES tenants (id),
    name             text NOT NULL,
    provider         text NOT NULL,
    model            text NOT NULL,
    base_url         text,
    key_secret       text,
    fallback         text,
    timeout_seconds  integer NOT NULL,
    price_in         double precision,
    price_out        double precision,
    added_by         text NOT NULL,
    added_at         timestamptz NOT NULL
);
CREATE INDEX ai_models_by_name ON ai_models (tenant_id, name);

CREATE TABLE ai_usage (
    id             bigserial PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants (id),
    agent          text,
    run_id         text,
    model_name     text NOT NULL,
    input_tokens   bigint NOT NULL,
    output_tokens  bigint NOT NULL,
    cost_usd       double precision NOT NULL,
    at             timestamptz NOT NULL
);
CREATE INDEX ai_usage_by_time ON ai_usage (tenant_id, at);

CREATE TABLE ai_budgets (
    tenant_id    text PRIMARY KEY REFERENCES tenants (id),
    monthly_usd  double precision NOT NULL,
    updated_by   text NOT NULL,
    updated_at   timestamptz NOT NULL
);
