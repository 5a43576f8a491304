-- Tenants, users, API tokens and the audit chain.
CREATE TABLE tenants (
    id          text PRIMARY KEY,
    slug        text NOT NULL UNIQUE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE users (
    id             text PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants (id),
    username       text NOT NULL,
    display_name   text,
    password_hash  text NOT NULL,
    role           text NOT NULL,
    is_superadmin  boolean NOT NULL DEFAULT false,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL,
    last_login_at  timestamptz,
    UNIQUE (tenant_id, username)
);

CREATE TABLE api_tokens (
    id            text PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants (id),
    user_id       text NOT NULL REFERENCES users (id),
    name          text NOT NULL,
    role          text NOT NULL,
    token_hash    text NOT NULL UNIQUE,
    prefix        text NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);

-- One hash chain per tenant, plus the 'system' chain for events outside any tenant.
CREATE TABLE audit_log (
    chain           text NOT NULL,
    seq             bigint NOT NULL,
    id              text NOT NULL UNIQUE,
    tenant_id       text,
    at              timestamptz NOT NULL,
    actor           text NOT NULL,
    action          text NOT NULL,
    target          text NOT NULL,
    outcome         text NOT NULL,
    client_address  text,
    details         text NOT NULL,
    prev_hash       text NOT NULL,
    hash            text NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE INDEX audit_log_at ON audit_log (chain, at);

CREATE TABLE audit_heads (
    chain  text PRIMARY KEY,
    seq    bigint NOT NULL,
    hash   text NOT NULL
);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is refused', TG_OP;
END
$$;

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
