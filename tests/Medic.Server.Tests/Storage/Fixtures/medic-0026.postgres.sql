--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: audit_log_refuse_change(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.audit_log_refuse_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is refused', TG_OP;
END
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: ai_agent_roles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ai_agent_roles (
    tenant_id text NOT NULL,
    role text NOT NULL,
    agent text NOT NULL
);


--
-- Name: ai_agents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ai_agents (
    tenant_id text NOT NULL,
    name text NOT NULL,
    trust text NOT NULL,
    roles text NOT NULL,
    system_prompt text NOT NULL,
    skills text NOT NULL,
    tools text NOT NULL,
    model text,
    patrol_seconds bigint,
    enabled boolean NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: ai_budgets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ai_budgets (
    tenant_id text NOT NULL,
    monthly_usd double precision NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: ai_models; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ai_models (
    id text NOT NULL,
    tenant_id text NOT NULL,
    name text NOT NULL,
    provider text NOT NULL,
    model text NOT NULL,
    base_url text,
    key_secret text,
    fallback text,
    timeout_seconds integer NOT NULL,
    price_in double precision,
    price_out double precision,
    added_by text NOT NULL,
    added_at timestamp with time zone NOT NULL
);


--
-- Name: ai_runs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ai_runs (
    id text NOT NULL,
    tenant_id text NOT NULL,
    purpose text NOT NULL,
    agent text,
    incident_id text,
    model text,
    outcome text NOT NULL,
    outcome_reason text,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    cost numeric,
    tool_calls bigint NOT NULL,
    latency_ms bigint NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone NOT NULL,
    actor text NOT NULL,
    bundle text NOT NULL,
    bundle_sha256 text NOT NULL
);


--
-- Name: ai_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ai_sessions (
    id text NOT NULL,
    tenant_id text NOT NULL,
    owner text NOT NULL,
    title text NOT NULL,
    model text,
    messages text NOT NULL,
    turns integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: ai_skills; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ai_skills (
    tenant_id text NOT NULL,
    name text NOT NULL,
    markdown text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: ai_tools; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ai_tools (
    tenant_id text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    definition text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: ai_usage; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ai_usage (
    id bigint NOT NULL,
    tenant_id text NOT NULL,
    agent text,
    run_id text,
    model_name text NOT NULL,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    cost_usd double precision NOT NULL,
    at timestamp with time zone NOT NULL
);


--
-- Name: ai_usage_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.ai_usage_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: ai_usage_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.ai_usage_id_seq OWNED BY public.ai_usage.id;


--
-- Name: alert_type_rules; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alert_type_rules (
    tenant_id text NOT NULL,
    name text NOT NULL,
    rule text NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: api_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_tokens (
    id text NOT NULL,
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    name text NOT NULL,
    role text NOT NULL,
    token_hash text NOT NULL,
    prefix text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    last_used_at timestamp with time zone
);


--
-- Name: approvals; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.approvals (
    id text NOT NULL,
    tenant_id text NOT NULL,
    incident_id text NOT NULL,
    remediation_id text NOT NULL,
    requested_by text NOT NULL,
    reason text NOT NULL,
    status text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    decided_by text,
    decided_at timestamp with time zone,
    comment text,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: audit_checkpoints; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_checkpoints (
    chain text NOT NULL,
    seq bigint NOT NULL,
    hash text NOT NULL,
    at timestamp with time zone NOT NULL,
    public_key text NOT NULL,
    signature text NOT NULL
);


--
-- Name: audit_heads; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_heads (
    chain text NOT NULL,
    seq bigint NOT NULL,
    hash text NOT NULL
);


--
-- Name: audit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_log (
    chain text NOT NULL,
    seq bigint NOT NULL,
    id text NOT NULL,
    tenant_id text,
    at timestamp with time zone NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    outcome text NOT NULL,
    client_address text,
    details text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL
);


--
-- Name: audit_verified; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_verified (
    chain text NOT NULL,
    seq bigint NOT NULL,
    hash text NOT NULL,
    verified_at timestamp with time zone NOT NULL
);


--
-- Name: change_windows; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.change_windows (
    id text NOT NULL,
    tenant_id text NOT NULL,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    reason text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: check_results; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.check_results (
    check_id text NOT NULL,
    tenant_id text NOT NULL,
    at timestamp with time zone NOT NULL,
    ok boolean NOT NULL,
    duration_ms bigint NOT NULL,
    detail text NOT NULL
);


--
-- Name: checks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.checks (
    id text NOT NULL,
    tenant_id text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    target text,
    server_id text,
    command text,
    expect_status integer,
    body_regex text,
    interval_seconds integer NOT NULL,
    timeout_seconds integer NOT NULL,
    failures integer NOT NULL,
    severity text NOT NULL,
    state text NOT NULL,
    consecutive_failures integer DEFAULT 0 NOT NULL,
    last_run_at timestamp with time zone,
    last_detail text,
    next_run_at timestamp with time zone NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    removed_at timestamp with time zone
);


--
-- Name: console_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.console_sessions (
    id text NOT NULL,
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    ended_at timestamp with time zone,
    end_reason text
);


--
-- Name: enrollment_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.enrollment_tokens (
    id text NOT NULL,
    tenant_id text NOT NULL,
    token_hash text NOT NULL,
    prefix text NOT NULL,
    tags text NOT NULL,
    uses_allowed integer NOT NULL,
    uses integer DEFAULT 0 NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone
);


--
-- Name: execution_results; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.execution_results (
    execution_id text NOT NULL,
    tenant_id text NOT NULL,
    task_id text NOT NULL,
    server text NOT NULL,
    status text NOT NULL,
    exit_code integer,
    duration_ms bigint NOT NULL,
    truncated boolean NOT NULL,
    reason text,
    stdout text NOT NULL,
    stderr text NOT NULL,
    finished_at timestamp with time zone NOT NULL
);


--
-- Name: executions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.executions (
    id text NOT NULL,
    tenant_id text NOT NULL,
    actor text NOT NULL,
    command text NOT NULL,
    targets text NOT NULL,
    strategy text NOT NULL,
    status text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone
);


--
-- Name: incident_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incident_deliveries (
    tenant_id text NOT NULL,
    source text NOT NULL,
    delivery_id text NOT NULL,
    received_at timestamp with time zone NOT NULL
);


--
-- Name: incident_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incident_events (
    seq bigint NOT NULL,
    incident_id text NOT NULL,
    tenant_id text NOT NULL,
    at timestamp with time zone NOT NULL,
    kind text NOT NULL,
    actor text NOT NULL,
    message text NOT NULL,
    data text
);


--
-- Name: incident_events_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.incident_events ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.incident_events_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: incident_occurrences; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incident_occurrences (
    incident_id text NOT NULL,
    occurrence text NOT NULL,
    firing boolean NOT NULL,
    signal_count integer NOT NULL,
    first_seen_at timestamp with time zone NOT NULL,
    last_seen_at timestamp with time zone NOT NULL
);


--
-- Name: incidents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incidents (
    id text NOT NULL,
    tenant_id text NOT NULL,
    server_id text,
    source text NOT NULL,
    type text NOT NULL,
    severity text NOT NULL,
    status text NOT NULL,
    fingerprint text NOT NULL,
    title text NOT NULL,
    summary text,
    labels text NOT NULL,
    evidence text,
    signal_count integer NOT NULL,
    flapping boolean DEFAULT false NOT NULL,
    flap_window_start timestamp with time zone NOT NULL,
    flap_changes integer DEFAULT 0 NOT NULL,
    first_seen_at timestamp with time zone NOT NULL,
    last_seen_at timestamp with time zone NOT NULL,
    acknowledged_by text,
    acknowledged_at timestamp with time zone,
    resolved_at timestamp with time zone,
    resolution text,
    updated_at timestamp with time zone NOT NULL,
    pipeline_round integer DEFAULT 0 NOT NULL,
    group_key text
);


--
-- Name: jobs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.jobs (
    id text NOT NULL,
    tenant_id text,
    kind text NOT NULL,
    idempotency_key text NOT NULL,
    payload text NOT NULL,
    status text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    max_attempts integer NOT NULL,
    run_after timestamp with time zone NOT NULL,
    lease_owner text,
    lease_until timestamp with time zone,
    last_error text,
    created_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone
);


--
-- Name: monitors; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.monitors (
    id text NOT NULL,
    tenant_id text NOT NULL,
    name text NOT NULL,
    server_id text,
    tags text,
    definition text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    removed_at timestamp with time zone
);


--
-- Name: node_metrics; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.node_metrics (
    node_id text NOT NULL,
    tenant_id text NOT NULL,
    minute timestamp with time zone NOT NULL,
    metrics text NOT NULL
);


--
-- Name: nodes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.nodes (
    id text NOT NULL,
    tenant_id text NOT NULL,
    name text NOT NULL,
    credential_hash text,
    tags text NOT NULL,
    status text NOT NULL,
    drained boolean DEFAULT false NOT NULL,
    facts text,
    metrics text,
    enrolled_at timestamp with time zone NOT NULL,
    last_seen_at timestamp with time zone,
    status_changed_at timestamp with time zone,
    removed_at timestamp with time zone,
    kind text DEFAULT 'agent'::text NOT NULL,
    ssh_address text,
    ssh_user text,
    ssh_key text,
    ssh_host_key text,
    ssh_accept_new boolean DEFAULT false NOT NULL
);


--
-- Name: notification_channels; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_channels (
    id text NOT NULL,
    tenant_id text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    settings text NOT NULL,
    sealed_secrets text,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    removed_at timestamp with time zone
);


--
-- Name: notification_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_deliveries (
    id text NOT NULL,
    tenant_id text NOT NULL,
    idempotency_key text NOT NULL,
    incident_id text,
    approval_id text,
    channel_id text NOT NULL,
    event text NOT NULL,
    status text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    last_error text,
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone
);


--
-- Name: notification_incident_state; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_incident_state (
    incident_id text NOT NULL,
    tenant_id text NOT NULL,
    episode integer NOT NULL,
    episode_started_at timestamp with time zone NOT NULL,
    status text NOT NULL,
    acknowledged boolean NOT NULL,
    last_notified_at timestamp with time zone,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: notification_rules; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_rules (
    id text NOT NULL,
    tenant_id text NOT NULL,
    name text NOT NULL,
    min_severity text NOT NULL,
    labels text NOT NULL,
    source text,
    server text,
    events text NOT NULL,
    channels text NOT NULL,
    renotify_seconds integer NOT NULL,
    renotify_severity text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    removed_at timestamp with time zone
);


--
-- Name: pipeline_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.pipeline_settings (
    tenant_id text NOT NULL,
    automation boolean NOT NULL,
    blast_radius_per_hour integer NOT NULL,
    approval_ttl_seconds integer NOT NULL,
    triage_rules text,
    updated_by text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: readiness_probe; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.readiness_probe (
    id integer NOT NULL,
    at timestamp with time zone NOT NULL
);


--
-- Name: remediations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.remediations (
    id text NOT NULL,
    tenant_id text NOT NULL,
    incident_id text NOT NULL,
    round integer NOT NULL,
    runbook text NOT NULL,
    version integer NOT NULL,
    risk text NOT NULL,
    params text NOT NULL,
    server_id text,
    server_name text,
    proposed_by text NOT NULL,
    trust text NOT NULL,
    gate text NOT NULL,
    gate_reason text NOT NULL,
    status text NOT NULL,
    run_id text,
    verification text,
    error text,
    created_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone
);


--
-- Name: runbook_run_steps; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.runbook_run_steps (
    run_id text NOT NULL,
    tenant_id text NOT NULL,
    seq integer NOT NULL,
    server text NOT NULL,
    step integer NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    phase text NOT NULL,
    status text NOT NULL,
    exit_code integer,
    duration_ms bigint NOT NULL,
    stdout text NOT NULL,
    stderr text NOT NULL,
    truncated boolean NOT NULL,
    reason text,
    started_at timestamp with time zone NOT NULL
);


--
-- Name: runbook_runs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.runbook_runs (
    id text NOT NULL,
    tenant_id text NOT NULL,
    runbook text NOT NULL,
    version integer NOT NULL,
    source text NOT NULL,
    content_hash text NOT NULL,
    actor text NOT NULL,
    idempotency_key text,
    params text NOT NULL,
    targets text NOT NULL,
    status text NOT NULL,
    error text,
    created_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone
);


--
-- Name: runbook_versions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.runbook_versions (
    id text NOT NULL,
    tenant_id text,
    name text NOT NULL,
    version integer NOT NULL,
    description text NOT NULL,
    risk text NOT NULL,
    content text NOT NULL,
    content_hash text NOT NULL,
    author text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at text NOT NULL
);


--
-- Name: secrets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.secrets (
    tenant_id text NOT NULL,
    name text NOT NULL,
    sealed_value text NOT NULL,
    length integer NOT NULL,
    description text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: silenced_incidents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.silenced_incidents (
    incident_id text NOT NULL,
    tenant_id text NOT NULL,
    silence_id text NOT NULL,
    action text NOT NULL
);


--
-- Name: silences; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.silences (
    id text NOT NULL,
    tenant_id text NOT NULL,
    matchers text NOT NULL,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    created_by text NOT NULL,
    comment text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expired_by text
);


--
-- Name: tenants; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tenants (
    id text NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id text NOT NULL,
    tenant_id text NOT NULL,
    username text NOT NULL,
    display_name text,
    password_hash text NOT NULL,
    role text NOT NULL,
    is_superadmin boolean DEFAULT false NOT NULL,
    disabled boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_login_at timestamp with time zone
);


--
-- Name: webhook_credentials; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_credentials (
    id text NOT NULL,
    tenant_id text NOT NULL,
    kind text NOT NULL,
    sealed text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone
);


--
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_deliveries (
    seq bigint NOT NULL,
    tenant_id text NOT NULL,
    source text NOT NULL,
    at timestamp with time zone NOT NULL,
    status integer NOT NULL,
    outcome text NOT NULL,
    auth text,
    client_address text,
    alerts integer NOT NULL,
    detail text
);


--
-- Name: webhook_deliveries_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.webhook_deliveries ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.webhook_deliveries_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: webhook_mappings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_mappings (
    tenant_id text NOT NULL,
    name text NOT NULL,
    mapping text NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: webhook_refusal_counts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_refusal_counts (
    tenant_id text NOT NULL,
    source text NOT NULL,
    reason text NOT NULL,
    count bigint NOT NULL,
    last_at timestamp with time zone NOT NULL
);


--
-- Name: webhook_source_credentials; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_source_credentials (
    id text NOT NULL,
    tenant_id text NOT NULL,
    source text NOT NULL,
    kind text NOT NULL,
    sealed text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: ai_usage id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_usage ALTER COLUMN id SET DEFAULT nextval('public.ai_usage_id_seq'::regclass);


--
-- Data for Name: ai_agent_roles; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: ai_agents; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: ai_budgets; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: ai_models; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: ai_runs; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: ai_sessions; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: ai_skills; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: ai_tools; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: ai_usage; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: alert_type_rules; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: api_tokens; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.api_tokens VALUES ('tok_01a253b8f67c79e38f7c8841bb0814db', 'ten_01a253b8ebad7885aad263e4a449b20f', 'usr_01a253b8ebad7a9c83129ceef96f4dea', 'medic CLI on vm', 'admin', '2c44c07fa9f2b3ce33cb73143a1d18a565e6d9ac683d04375a670012f08dbcb3', 'mdk_xGcoB7hE', '2026-12-08 03:36:00.380421+00', '2027-03-08 03:36:00.380421+00', NULL, '2026-12-08 03:36:00.537507+00');
INSERT INTO public.api_tokens VALUES ('tok_01a253b8fd3577399b4d47ee12a2eaa3', 'ten_01a253b8ebad7885aad263e4a449b20f', 'usr_01a253b8ebad7a9c83129ceef96f4dea', 'fixture-ci', 'admin', '740346941a61f843c4c80ff8f86252baef271bb8834c4b17637cbd73a36cc723', 'mdk_X7DGbVk9', '2026-12-08 03:36:02.101367+00', '2027-03-08 03:36:02.101367+00', NULL, NULL);


--
-- Data for Name: approvals; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: audit_checkpoints; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.audit_checkpoints VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 7, 'b05938190fc62e2b21d02cac301a4ea676c446cc9f2b90f7813c84ca57b7d613', '2026-12-08 03:36:12.980322+00', 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEI0sNe2GrwK/2RE+qlSMONzB6XOSHUFK5IGFUeoLWKEoRXYZY/nQBqwCjQuLKLOkIj3AxEDzTkmMhX3iuOBNJFw==', 'mg1r8DdfPectgROPF5tPTL1qhtV/To34DQYb3DqERXE3FfKo92LcpyVU5yz0eMPxNgI5GLEVz/WSh3NljZ1heA==');


--
-- Data for Name: audit_heads; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.audit_heads VALUES ('system', 2, '15fe469b1e139991bda008cd3f24eddafc9758cfeb6c4f600170794681f75755');
INSERT INTO public.audit_heads VALUES ('ten_01a253b91f0570918e1be64d57329776', 2, '7a3bcfa4a68119f446f69ac9be038b5d444f072fba855fb19c3765743edcf271');
INSERT INTO public.audit_heads VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 8, '05c02da930cdbfd9cbf35c9acfc10c0b119e655d400dda493b5c1c112a3957d7');


--
-- Data for Name: audit_log; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.audit_log VALUES ('system', 1, 'aud_01a253b8ec2a7270a7a9114a2161b5c2', NULL, '2026-12-08 03:35:57.73824+00', 'system', 'tenant.create', 'tenant:ten_01a253b8ebad7885aad263e4a449b20f', 'success', NULL, '{"name":"Default","slug":"default"}', '0000000000000000000000000000000000000000000000000000000000000000', 'ac3e89e4a0809209e81fe05780665b0ab231299e389669bf66c0b285cef3d1a8');
INSERT INTO public.audit_log VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 1, 'aud_01a253b8ecbf7d45a366604710554f3b', 'ten_01a253b8ebad7885aad263e4a449b20f', '2026-12-08 03:35:57.887271+00', 'system', 'tenant.create', 'tenant:ten_01a253b8ebad7885aad263e4a449b20f', 'success', NULL, '{"name":"Default","slug":"default"}', '0000000000000000000000000000000000000000000000000000000000000000', '61914bf88c993f91dd8d0100ba37e357a62e451e455a69744223efb2c7cd9afe');
INSERT INTO public.audit_log VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 2, 'aud_01a253b8ecdf71c0b8bf57c04ff9a7ca', 'ten_01a253b8ebad7885aad263e4a449b20f', '2026-12-08 03:35:57.919282+00', 'system', 'user.create', 'user:usr_01a253b8ebad7a9c83129ceef96f4dea', 'success', NULL, '{"role":"admin","superadmin":"true","username":"admin"}', '61914bf88c993f91dd8d0100ba37e357a62e451e455a69744223efb2c7cd9afe', '120f2b818b3fe20da83cbac39176ad0e4b0103a3b1fe6f88317d57f3c132032a');
INSERT INTO public.audit_log VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 3, 'aud_01a253b8f66f719588fd622e2bb03979', 'ten_01a253b8ebad7885aad263e4a449b20f', '2026-12-08 03:36:00.367793+00', 'user:admin', 'auth.login', 'user:admin', 'success', '127.0.0.1', '{"method":"token"}', '120f2b818b3fe20da83cbac39176ad0e4b0103a3b1fe6f88317d57f3c132032a', 'c77503b4f2721712c6256b7314504b2b2b9d23587095ca0d831a0da3c2d535b8');
INSERT INTO public.audit_log VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 4, 'aud_01a253b8f697736d9942de819ff4cb61', 'ten_01a253b8ebad7885aad263e4a449b20f', '2026-12-08 03:36:00.407625+00', 'user:admin', 'token.create', 'token:tok_01a253b8f67c79e38f7c8841bb0814db', 'success', '127.0.0.1', '{"expires_at":"2027-03-08T03:36:00.380421Z","name":"medic CLI on vm","owner":"admin","prefix":"mdk_xGcoB7hE","role":"admin"}', 'c77503b4f2721712c6256b7314504b2b2b9d23587095ca0d831a0da3c2d535b8', '2ee24c9da4e2e883c05d323a3b405bd1e4b5f00b4c81c5e701572ea97a5ecfba');
INSERT INTO public.audit_log VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 5, 'aud_01a253b8fd6c7e8aaccff0d2ff73584c', 'ten_01a253b8ebad7885aad263e4a449b20f', '2026-12-08 03:36:02.156219+00', 'user:admin', 'token.create', 'token:tok_01a253b8fd3577399b4d47ee12a2eaa3', 'success', '127.0.0.1', '{"expires_at":"2027-03-08T03:36:02.101367Z","name":"fixture-ci","owner":"admin","prefix":"mdk_X7DGbVk9","role":"admin"}', '2ee24c9da4e2e883c05d323a3b405bd1e4b5f00b4c81c5e701572ea97a5ecfba', '4121f2968dac260cf012ee664655987d60ab8a9c075288747fa323a4fac9ec86');
INSERT INTO public.audit_log VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 6, 'aud_01a253b9057f7647a397821a8c80d5f7', 'ten_01a253b8ebad7885aad263e4a449b20f', '2026-12-08 03:36:04.223788+00', 'user:admin', 'incident.create', 'incident:inc_01a253b9053f74f490646b1d639c0ac9', 'success', '127.0.0.1', '{"fingerprint":"manual:inc_01a253b9053f74f490646b1d639c0ac9","severity":"critical","title":"Fixture incident: disk full on web-1"}', '4121f2968dac260cf012ee664655987d60ab8a9c075288747fa323a4fac9ec86', 'cc089c0cc580928e6d2e269982c3667d97204b9687ddda11dc5391c8a32ea6f9');
INSERT INTO public.audit_log VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 7, 'aud_01a253b913607db6b743731639d0ca48', 'ten_01a253b8ebad7885aad263e4a449b20f', '2026-12-08 03:36:07.776223+00', 'user:admin', 'secret.set', 'secret:fixture-secret', 'success', '127.0.0.1', '{"created":"true","name":"fixture-secret"}', 'cc089c0cc580928e6d2e269982c3667d97204b9687ddda11dc5391c8a32ea6f9', 'b05938190fc62e2b21d02cac301a4ea676c446cc9f2b90f7813c84ca57b7d613');
INSERT INTO public.audit_log VALUES ('system', 2, 'aud_01a253b91f977015bfd30da476a7f947', NULL, '2026-12-08 03:36:10.903442+00', 'user:admin', 'tenant.create', 'tenant:ten_01a253b91f0570918e1be64d57329776', 'success', '127.0.0.1', '{"name":"Acme Corp","slug":"acme"}', 'ac3e89e4a0809209e81fe05780665b0ab231299e389669bf66c0b285cef3d1a8', '15fe469b1e139991bda008cd3f24eddafc9758cfeb6c4f600170794681f75755');
INSERT INTO public.audit_log VALUES ('ten_01a253b91f0570918e1be64d57329776', 1, 'aud_01a253b91f9a7fce9cb9e092bee15cf3', 'ten_01a253b91f0570918e1be64d57329776', '2026-12-08 03:36:10.90627+00', 'user:admin', 'tenant.create', 'tenant:ten_01a253b91f0570918e1be64d57329776', 'success', '127.0.0.1', '{"name":"Acme Corp","slug":"acme"}', '0000000000000000000000000000000000000000000000000000000000000000', 'dbcd2ac56dc6211022be7d6b923205d7cc61ac51cf5dcd0cbb9110a58352d7e7');
INSERT INTO public.audit_log VALUES ('ten_01a253b91f0570918e1be64d57329776', 2, 'aud_01a253b91fa077f98e3e537b17131e5f', 'ten_01a253b91f0570918e1be64d57329776', '2026-12-08 03:36:10.912575+00', 'user:admin', 'user.create', 'user:usr_01a253b91f0571b3a385958eb54150b7', 'success', '127.0.0.1', '{"role":"admin","superadmin":"false","username":"acme-admin"}', 'dbcd2ac56dc6211022be7d6b923205d7cc61ac51cf5dcd0cbb9110a58352d7e7', '7a3bcfa4a68119f446f69ac9be038b5d444f072fba855fb19c3765743edcf271');
INSERT INTO public.audit_log VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 8, 'aud_01a253b927e87de48f26783325336fec', 'ten_01a253b8ebad7885aad263e4a449b20f', '2026-12-08 03:36:13.032892+00', 'user:admin', 'audit.checkpoint', 'audit:ten_01a253b8ebad7885aad263e4a449b20f', 'success', '127.0.0.1', '{"seq:ten_01a253b8ebad7885aad263e4a449b20f":"7"}', 'b05938190fc62e2b21d02cac301a4ea676c446cc9f2b90f7813c84ca57b7d613', '05c02da930cdbfd9cbf35c9acfc10c0b119e655d400dda493b5c1c112a3957d7');


--
-- Data for Name: audit_verified; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.audit_verified VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 7, 'b05938190fc62e2b21d02cac301a4ea676c446cc9f2b90f7813c84ca57b7d613', '2026-12-08 03:36:12.975521+00');


--
-- Data for Name: change_windows; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: check_results; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: checks; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: console_sessions; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: enrollment_tokens; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: execution_results; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: executions; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: incident_deliveries; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: incident_events; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.incident_events OVERRIDING SYSTEM VALUE VALUES (1, 'inc_01a253b9053f74f490646b1d639c0ac9', 'ten_01a253b8ebad7885aad263e4a449b20f', '2026-12-08 03:36:04.1597+00', 'opened', 'user:admin', 'written by the 0026 schema', NULL);
INSERT INTO public.incident_events OVERRIDING SYSTEM VALUE VALUES (2, 'inc_01a253b9053f74f490646b1d639c0ac9', 'ten_01a253b8ebad7885aad263e4a449b20f', '2026-12-08 03:36:04.709918+00', 'triage', 'system:pipeline', 'triage: no rule proposes a recipe for this incident (type manual); a person takes it', NULL);


--
-- Data for Name: incident_occurrences; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.incident_occurrences VALUES ('inc_01a253b9053f74f490646b1d639c0ac9', 'manual:inc_01a253b9053f74f490646b1d639c0ac9', true, 1, '2026-12-08 03:36:04.1597+00', '2026-12-08 03:36:04.1597+00');


--
-- Data for Name: incidents; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.incidents VALUES ('inc_01a253b9053f74f490646b1d639c0ac9', 'ten_01a253b8ebad7885aad263e4a449b20f', NULL, 'manual', 'manual', 'critical', 'open', 'manual:inc_01a253b9053f74f490646b1d639c0ac9', 'Fixture incident: disk full on web-1', 'written by the 0026 schema', '{}', NULL, 1, false, '2026-12-08 03:36:04.1597+00', 1, '2026-12-08 03:36:04.1597+00', '2026-12-08 03:36:04.1597+00', NULL, NULL, NULL, NULL, '2026-12-08 03:36:04.1597+00', 1, NULL);


--
-- Data for Name: jobs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.jobs VALUES ('job_01a253b905947620a5d5656f76acf474', 'ten_01a253b8ebad7885aad263e4a449b20f', 'pipeline.triage', 'pipeline:inc_01a253b9053f74f490646b1d639c0ac9:1:triage', '{"tenant_id":"ten_01a253b8ebad7885aad263e4a449b20f","incident_id":"inc_01a253b9053f74f490646b1d639c0ac9","round":1,"approval_id":null}', 'done', 1, 8, '2026-12-08 03:36:04.244118+00', NULL, NULL, NULL, '2026-12-08 03:36:04.244118+00', '2026-12-08 03:36:04.764192+00');


--
-- Data for Name: monitors; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: node_metrics; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: nodes; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: notification_channels; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: notification_deliveries; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: notification_incident_state; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: notification_rules; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: pipeline_settings; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: readiness_probe; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.readiness_probe VALUES (1, '2026-12-08 03:35:58.962316+00');


--
-- Data for Name: remediations; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: runbook_run_steps; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: runbook_runs; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: runbook_versions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8df9270aa8089d1e98087fc19', NULL, 'apply-security-updates', 1, 'Install pending security updates with the system''s package manager (apt, dnf, yum or zypper); check none is left and say when a reboot is needed.', 'high', '# High risk: packages change and services may restart. Asks for approval before it changes anything.
name: apply-security-updates
version: 1
description: Install pending security updates with the system''s package manager (apt, dnf, yum or zypper); check none is left and say when a reboot is needed.
risk: high
remediates:
  types: [security_updates_pending]
targets: incident
steps:
  - name: pending updates
    diag: updates
    timeout: 5m
  - name: approve the updates
    approval: Install the pending security updates? Services may restart.
  - name: install security updates
    timeout: 30m
    env:
      DEBIAN_FRONTEND: noninteractive
    shell: |
      set -e
      if command -v unattended-upgrade >/dev/null 2>&1; then apt-get update -q && unattended-upgrade -v
      elif command -v dnf >/dev/null 2>&1; then dnf -y upgrade --security
      elif command -v yum >/dev/null 2>&1; then yum -y update --security
      elif command -v zypper >/dev/null 2>&1; then zypper --non-interactive patch --category security
      else echo "no supported package manager (apt with unattended-upgrades, dnf, yum or zypper)"; exit 1
      fi
  - name: reboot needed
    shell: if [ -e /var/run/reboot-required ] || (command -v needs-restarting >/dev/null 2>&1 && ! needs-restarting -r >/dev/null 2>&1); then echo yes; else echo no; fi
    capture: reboot_needed
  - name: say a reboot is needed
    when: captures.reboot_needed == ''yes''
    notify: Security updates are installed; the server needs a reboot (runbook reboot).
  - name: no security update is pending
    check:
      shell: |
        if command -v unattended-upgrade >/dev/null 2>&1; then n=$(apt-get -s upgrade | grep -c ''^Inst .*[Ss]ecurity'' || true)
        elif command -v dnf >/dev/null 2>&1; then n=$(dnf -q updateinfo list --security 2>/dev/null | wc -l)
        elif command -v yum >/dev/null 2>&1; then n=$(yum -q updateinfo list security 2>/dev/null | wc -l)
        else n=$(zypper --non-interactive list-patches --category security 2>/dev/null | grep -c ''| needed'' || true)
        fi
        echo "$n security updates pending"
        [ "$n" -eq 0 ]
', 'fe23a161e9307e02748637af8c99bee5b318839f5eb5fdac8ab59be1ae32a768', 'medic', '2026-12-08 03:35:54.43941+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8dfaf7a27bea7024f1956f784', NULL, 'clean-package-caches', 1, 'Clean the package manager''s download cache (apt, dnf, yum, zypper, apk or pacman) and check it is empty.', 'medium', '# Frees disk space held by downloaded packages; installed packages are untouched.
name: clean-package-caches
version: 1
description: Clean the package manager''s download cache (apt, dnf, yum, zypper, apk or pacman) and check it is empty.
risk: medium
remediates:
  types: [disk_full, disk_filling]
targets: incident
steps:
  - name: space used by package caches
    shell: du -sh /var/cache/apt/archives /var/cache/dnf /var/cache/yum /var/cache/zypp/packages /var/cache/apk /var/cache/pacman/pkg 2>/dev/null || true
  - name: clean the cache
    timeout: 10m
    shell: |
      set -e
      if command -v apt-get >/dev/null 2>&1; then apt-get clean
      elif command -v dnf >/dev/null 2>&1; then dnf clean packages
      elif command -v yum >/dev/null 2>&1; then yum clean packages
      elif command -v zypper >/dev/null 2>&1; then zypper --non-interactive clean --all
      elif command -v apk >/dev/null 2>&1; then apk cache clean || true
      elif command -v pacman >/dev/null 2>&1; then pacman -Scc --noconfirm
      else echo "no known package manager on this server"; exit 1
      fi
  - name: no downloaded packages remain
    check:
      shell: |
        left=$(find /var/cache/apt/archives /var/cache/dnf /var/cache/yum /var/cache/zypp/packages /var/cache/pacman/pkg \
          -xdev -type f \( -name ''*.deb'' -o -name ''*.rpm'' -o -name ''*.pkg.tar*'' \) 2>/dev/null | wc -l)
        echo "$left package files left in the caches"
        [ "$left" -eq 0 ]
', 'abda42858d86091569fbeda0b69c7ac98b867d27dd48b30cb1950a2af6b1df9f', 'medic', '2026-12-08 03:35:54.538478+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8dfb47423ad00b1be9bb3ba10', NULL, 'delete-old-files', 1, 'Delete the files under a directory that were last modified more than a number of days ago; check none is left.', 'medium', '# Deletes files older than a number of days under one directory (never / or a system directory:
# the parameter''s pattern refuses them before anything runs). Directories are kept.
name: delete-old-files
version: 1
description: Delete the files under a directory that were last modified more than a number of days ago; check none is left.
risk: medium
remediates:
  types: [disk_full, disk_filling]
parameters:
  directory:
    type: string
    description: an absolute directory, such as /var/backups/app; not / and not a system directory
    pattern: ''(?!/(bin|boot|dev|etc|lib|lib32|lib64|libx32|proc|sbin|sys|usr)(/|$))(?!/(var|home|root|run|srv|opt|mnt|media)/?$)(?!.*//)(?!(.*/)?\.\.?(/|$))/[A-Za-z0-9._/-]{1,250}''
    required: true
  days:
    type: int
    description: delete files older than this many days
    min: 1
    max: 3650
    default: 14
  name:
    type: string
    description: only files whose name matches this shell pattern, such as ''*.tar.gz''
    pattern: ''[A-Za-z0-9*?._-]{1,64}''
    default: ''*''
targets: incident
steps:
  - name: the directory exists
    run: [test, -d, ''${{ params.directory }}'']
  - name: old files
    shell: find "$MEDIC_PARAM_DIRECTORY" -xdev -type f -name "$MEDIC_PARAM_NAME" -mmin +$((MEDIC_PARAM_DAYS * 1440)) | wc -l
    capture: old_files
  - name: delete them
    when: captures.old_files > 0
    timeout: 30m
    shell: find "$MEDIC_PARAM_DIRECTORY" -xdev -type f -name "$MEDIC_PARAM_NAME" -mmin +$((MEDIC_PARAM_DAYS * 1440)) -print -delete
  - name: no old file is left
    check:
      shell: |
        left=$(find "$MEDIC_PARAM_DIRECTORY" -xdev -type f -name "$MEDIC_PARAM_NAME" -mmin +$((MEDIC_PARAM_DAYS * 1440)) | wc -l)
        echo "$left old files left"
        [ "$left" -eq 0 ]
', '3cf4bef622242a2abd25e9e6d2f8b34b40afebf5914a7a781edef7850d71081f', 'medic', '2026-12-08 03:35:54.547424+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8dfc17055aa4f7cf5c7c16fcd', NULL, 'delete-rotated-logs', 1, 'Delete rotated log files (*.N, *.gz, *.xz, *.bz2, *.zst, *.old, *-YYYYMMDD) older than some days under a log directory; check none is left.', 'medium', '# Deletes the rotated copies logrotate (or a program''s own rotation) leaves behind under a log
# directory: NAME.1, NAME.2.gz, NAME-20250301, NAME.old and compressed archives. Live logs are kept.
name: delete-rotated-logs
version: 1
description: Delete rotated log files (*.N, *.gz, *.xz, *.bz2, *.zst, *.old, *-YYYYMMDD) older than some days under a log directory; check none is left.
risk: medium
remediates:
  types: [disk_full, disk_filling, disk_full_forecast]
parameters:
  directory:
    type: string
    description: a log directory (a path with a log or logs segment), such as /var/log/nginx or /srv/app/logs
    pattern: ''(?!/(bin|boot|dev|etc|lib|lib32|lib64|libx32|proc|sbin|sys|usr)(/|$))(?!.*//)(?!(.*/)?\.\.?(/|$))(/[A-Za-z0-9._-]+)*/logs?(/[A-Za-z0-9._-]+)*/?''
    default: /var/log
  days:
    type: int
    description: delete rotated files not modified for this many days (0 for all of them)
    min: 0
    max: 3650
    default: 1
targets: incident
steps:
  - name: the directory exists
    run: [test, -d, ''${{ params.directory }}'']
  - name: rotated logs and their size
    shell: |
      find "$MEDIC_PARAM_DIRECTORY" -xdev -type f \( -name ''*.[0-9]'' -o -name ''*.[0-9].gz'' -o -name ''*.gz'' -o -name ''*.xz'' -o -name ''*.bz2'' -o -name ''*.zst'' -o -name ''*.old'' -o -name ''*-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'' \) \
        -mmin +$((MEDIC_PARAM_DAYS * 1440)) -printf ''%s\n'' | awk ''{ n++; s += $1 } END { printf "%d files, %d bytes\n", n, s }''
  - name: delete them
    timeout: 30m
    shell: |
      find "$MEDIC_PARAM_DIRECTORY" -xdev -type f \( -name ''*.[0-9]'' -o -name ''*.[0-9].gz'' -o -name ''*.gz'' -o -name ''*.xz'' -o -name ''*.bz2'' -o -name ''*.zst'' -o -name ''*.old'' -o -name ''*-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'' \) \
        -mmin +$((MEDIC_PARAM_DAYS * 1440)) -print -delete
  - name: no rotated log that old is left
    check:
      shell: |
        left=$(find "$MEDIC_PARAM_DIRECTORY" -xdev -type f \( -name ''*.[0-9]'' -o -name ''*.[0-9].gz'' -o -name ''*.gz'' -o -name ''*.xz'' -o -name ''*.bz2'' -o -name ''*.zst'' -o -name ''*.old'' -o -name ''*-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'' \) \
          -mmin +$((MEDIC_PARAM_DAYS * 1440)) | wc -l)
        echo "$left rotated log files left"
        [ "$left" -eq 0 ]
', 'aaf57cd00d6c011daa7bfc8dd1b1191dbfb1d28e25304a4ecf7148309ad5aa6f', 'medic', '2026-12-08 03:35:54.550148+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8dfc3742b9b7963d3cce397fe', NULL, 'free-port', 1, 'Stop the stray process holding a TCP port (if it still does and is still the named program) and start the service that needs the port; check the port is free or held by that service.', 'high', '# A service cannot start because another process listens on its port (a leftover instance started
# by hand, an orphaned child of the crashed service). Stops that process, if it is still the one the
# diagnosis named and still holds the port, and starts the service. Never used when the holder is
# itself a systemd service: two services wanting one port is a person''s decision.
name: free-port
version: 1
description: Stop the stray process holding a TCP port (if it still does and is still the named program) and start the service that needs the port; check the port is free or held by that service.
risk: high
remediates:
  types: [service_down, port_conflict]
parameters:
  port:
    type: int
    description: the TCP port
    min: 1
    max: 65535
    required: true
  holder_pid:
    type: int
    description: the process holding it (from the diagnosis)
    min: 2
    max: 4194304
    required: true
  holder_process:
    type: string
    description: the program the PID must belong to, as ps -o comm shows it
    pattern: ''[A-Za-z0-9_][A-Za-z0-9._+-]{0,14}''
    required: true
  restart_unit:
    type: string
    description: the service to start once the port is free (empty for none)
    pattern: ''([A-Za-z0-9@_][A-Za-z0-9@._:-]{0,199})?''
    default: ''''
targets: incident
steps:
  - name: the PID is still that program and holds the port
    shell: |
      comm=$(cat "/proc/$MEDIC_PARAM_HOLDER_PID/comm" 2>/dev/null) || { echo "no process $MEDIC_PARAM_HOLDER_PID"; exit 1; }
      [ "$comm" = "$MEDIC_PARAM_HOLDER_PROCESS" ] || { echo "process $MEDIC_PARAM_HOLDER_PID is $comm, not $MEDIC_PARAM_HOLDER_PROCESS"; exit 1; }
      if grep -q ''\.service$'' "/proc/$MEDIC_PARAM_HOLDER_PID/cgroup" 2>/dev/null; then
        echo "process $MEDIC_PARAM_HOLDER_PID runs in $(grep -o ''[^/]*\.service$'' "/proc/$MEDIC_PARAM_HOLDER_PID/cgroup" | head -n 1): not a stray process"; exit 1
      fi
      hex=$(printf ''%04X'' "$MEDIC_PARAM_PORT")
      inodes=$(awk -v p=":$hex" ''$2 ~ p"$" && $4 == "0A" { print $10 }'' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
      for i in $inodes; do
        find "/proc/$MEDIC_PARAM_HOLDER_PID/fd" -lname "socket:\[$i\]" 2>/dev/null | grep -q . && { echo "process $MEDIC_PARAM_HOLDER_PID ($comm) listens on $MEDIC_PARAM_PORT"; exit 0; }
      done
      echo "process $MEDIC_PARAM_HOLDER_PID does not listen on $MEDIC_PARAM_PORT"; exit 1
  - name: stop it (TERM, then KILL after 10 s)
    shell: |
      kill -TERM "$MEDIC_PARAM_HOLDER_PID" 2>/dev/null || exit 0
      for _ in 1 2 3 4 5 6 7 8 9 10; do [ -d "/proc/$MEDIC_PARAM_HOLDER_PID" ] || exit 0; sleep 1; done
      echo "still there after 10 s: KILL"; kill -KILL "$MEDIC_PARAM_HOLDER_PID" 2>/dev/null; true
  - name: start the service
    when: params.restart_unit != ''''
    service:
      action: restart
      unit: ${{ params.restart_unit }}
    timeout: 2m
  - name: the port is free or held by the service
    check:
      shell: |
        [ -d "/proc/$MEDIC_PARAM_HOLDER_PID" ] && [ "$(sed -n ''s/^State:[[:space:]]*\(.\).*/\1/p'' "/proc/$MEDIC_PARAM_HOLDER_PID/status")" != Z ] && { echo "process $MEDIC_PARAM_HOLDER_PID still runs"; exit 1; }
        if [ -n "$MEDIC_PARAM_RESTART_UNIT" ]; then systemctl is-active --quiet "$MEDIC_PARAM_RESTART_UNIT" || { echo "$MEDIC_PARAM_RESTART_UNIT is not active"; exit 1; }; fi
        echo "process $MEDIC_PARAM_HOLDER_PID is gone"
      retries: 5
      delay: 2s
', '91dbcbe799ec805919a1760cdb00d2c01f87697e342b1be83676d349b6bac826', 'medic', '2026-12-08 03:35:54.562584+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8dfc672b187c6e4f043eef1ec', NULL, 'free-tmp-inodes', 2, 'Free inodes in a directory (default /tmp) by deleting entries untouched for some days; check the inode use is below a limit.', 'medium', '# When a directory runs out of inodes (many small files: /tmp, a session or cache directory, a
# spool), deletes what has not been modified for a number of days, then empty directories, and
# checks the inode use. The inode-usage diagnosis names the directory; old entries only.
name: free-tmp-inodes
version: 2
description: Free inodes in a directory (default /tmp) by deleting entries untouched for some days; check the inode use is below a limit.
risk: medium
remediates:
  types: [inodes_full, inodes_full_forecast, disk_full]
parameters:
  directory:
    type: string
    description: the directory full of small files, such as /tmp, /var/spool/app or /srv/app/sessions; not / and not a system directory
    pattern: ''(?!/(bin|boot|dev|etc|lib|lib32|lib64|libx32|proc|sbin|sys|usr)(/|$))(?!/(var|home|root|run|srv|opt|mnt|media)/?$)(?!.*//)(?!(.*/)?\.\.?(/|$))/[A-Za-z0-9._/-]{1,250}''
    default: /tmp
  days:
    type: int
    description: delete entries not modified for this many days
    min: 1
    max: 365
    default: 7
  max_percent:
    type: int
    description: the inode use (in percent) the check accepts
    min: 1
    max: 100
    default: 90
targets: incident
steps:
  - name: inode use before
    run: [df, -Pi, ''${{ params.directory }}'']
  - name: delete old entries
    timeout: 30m
    shell: |
      minutes=$((MEDIC_PARAM_DAYS * 1440))
      find "$MEDIC_PARAM_DIRECTORY" -xdev -mindepth 1 ! -type d -mmin +"$minutes" -delete
      find "$MEDIC_PARAM_DIRECTORY" -xdev -mindepth 1 -depth -type d -empty -mmin +"$minutes" -delete
      true
  - name: the inode use is below the limit
    check:
      shell: |
        use=$(df -Pi "$MEDIC_PARAM_DIRECTORY" | awk ''NR == 2 { sub("%", "", $5); print $5 }'')
        echo "inode use: $use%"
        case "$use" in ''''|-) exit 0;; esac
        [ "$use" -lt "$MEDIC_PARAM_MAX_PERCENT" ]
', 'f32e67b0c431c092b65c440f39d7c2c15f53abc29a68a5507aa2b6c3f1f217d7', 'medic', '2026-12-08 03:35:54.56537+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8dfdc78369d9b6a60350b2a8b', NULL, 'kill-process', 1, 'Kill a runaway or leaking process by PID, if it is still the named program; check it is gone.', 'medium', '# Kills one process by PID, after checking the PID still belongs to the named program (a PID can be
# reused by another process between the alert and the fix).
name: kill-process
version: 1
description: Kill a runaway or leaking process by PID, if it is still the named program; check it is gone.
risk: medium
remediates:
  types: [process_runaway, process_leaking, cpu_high, memory_high]
parameters:
  pid:
    type: int
    description: the process id
    min: 2
    max: 4194304
    required: true
  process:
    type: string
    description: the program the PID must belong to, as ps -o comm shows it
    pattern: ''[A-Za-z0-9_][A-Za-z0-9._-]{0,14}''
    required: true
  signal:
    type: enum
    values: [TERM, KILL]
    default: TERM
targets: incident
steps:
  - name: the PID is still that program
    shell: |
      comm=$(cat "/proc/$MEDIC_PARAM_PID/comm" 2>/dev/null) || { echo "no process $MEDIC_PARAM_PID"; exit 1; }
      [ "$comm" = "$MEDIC_PARAM_PROCESS" ] || { echo "process $MEDIC_PARAM_PID is $comm, not $MEDIC_PARAM_PROCESS"; exit 1; }
  - name: send the signal
    run: [kill, -s, ''${{ params.signal }}'', ''${{ params.pid }}'']
  - name: the process is gone
    check:
      shell: |
        [ -r "/proc/$MEDIC_PARAM_PID/status" ] || exit 0
        state=$(sed -n ''s/^State:[[:space:]]*\(.\).*/\1/p'' "/proc/$MEDIC_PARAM_PID/status")
        [ "$state" = Z ] && exit 0
        echo "process $MEDIC_PARAM_PID is still there (state $state)"
        exit 1
      retries: 10
      delay: 1s
', '40a2ce451aacc0d150e91e6a81cc0a2b6fe11cfd6d21de285ab12829d2539ef6', 'medic', '2026-12-08 03:35:54.567287+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8dfeb7719bcb49f6a543c5102', NULL, 'reboot', 1, 'Reboot the server and check it came back (a new boot id, read through the reconnected agent).', 'high', '# High risk: the server goes away for a while. Needs ''reboot: true'' in the agent''s policy, and asks for approval.
name: reboot
version: 1
description: Reboot the server and check it came back (a new boot id, read through the reconnected agent).
risk: high
remediates:
  types: [reboot_required, kernel_update_pending]
targets: incident
steps:
  - name: boot id before
    run: [cat, /proc/sys/kernel/random/boot_id]
    capture: boot_before
  - name: approve the reboot
    approval: Reboot the server now? Everything on it stops for a few minutes.
  - name: say it reboots
    notify: Rebooting a server (boot ${{ captures.boot_before }}).
  - name: reboot
    run: [systemctl, reboot]
    timeout: 30s
    # The agent may be stopped before it reports: the check below says whether it worked.
    continue_on_error: true
  - name: wait for the shutdown
    wait: 30s
  - name: the server is back with a new boot
    timeout: 30s
    check:
      shell: |
        now=$(cat /proc/sys/kernel/random/boot_id)
        [ "$now" != "$MEDIC_CAPTURE_BOOT_BEFORE" ] || { echo "still boot $now"; exit 1; }
        echo "booted again: $now"
      retries: 40
      delay: 15s
', '0979f75af194046c3c11df936754ccc2fc8b50176fa58b3622fb24332820223a', 'medic', '2026-12-08 03:35:54.599924+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8dfec75ba9dff7d0c813157b0', NULL, 'release-deleted-files', 1, 'Restart the systemd unit whose process holds deleted files open, so their space is freed; check the unit runs and no longer holds them.', 'medium', '# Space held by files that were deleted while a service still has them open comes back only when
# the service closes them: restarting its unit does that. Checks the process that held them is
# still that unit''s first, since the unit is what gets restarted.
name: release-deleted-files
version: 1
description: Restart the systemd unit whose process holds deleted files open, so their space is freed; check the unit runs and no longer holds them.
risk: medium
remediates:
  types: [disk_full, disk_filling]
parameters:
  unit:
    type: string
    description: the systemd service holding the files, such as nginx.service
    pattern: ''[A-Za-z0-9@_][A-Za-z0-9@._:-]{0,199}''
    required: true
  holder_pid:
    type: int
    description: the process that holds them (from the diagnosis)
    min: 2
    max: 4194304
    required: true
targets: incident
steps:
  - name: the process still holds deleted files and belongs to the unit
    shell: |
      [ -d "/proc/$MEDIC_PARAM_HOLDER_PID" ] || { echo "process $MEDIC_PARAM_HOLDER_PID is gone: nothing to release"; exit 1; }
      grep -q "/$MEDIC_PARAM_UNIT\$\|/$MEDIC_PARAM_UNIT.service\$\|/$MEDIC_PARAM_UNIT/" "/proc/$MEDIC_PARAM_HOLDER_PID/cgroup" || { echo "process $MEDIC_PARAM_HOLDER_PID is not in $MEDIC_PARAM_UNIT"; exit 1; }
      n=$(find "/proc/$MEDIC_PARAM_HOLDER_PID/fd" -lname ''* (deleted)'' 2>/dev/null | wc -l)
      echo "process $MEDIC_PARAM_HOLDER_PID of $MEDIC_PARAM_UNIT holds $n deleted files"
  - name: restart the unit
    service:
      action: restart
      unit: ${{ params.unit }}
    timeout: 2m
  - name: the unit runs and the old process no longer holds deleted files
    check:
      shell: |
        systemctl is-active --quiet "$MEDIC_PARAM_UNIT" || { echo "$MEDIC_PARAM_UNIT is not active"; exit 1; }
        n=$(find "/proc/$MEDIC_PARAM_HOLDER_PID/fd" -lname ''* (deleted)'' 2>/dev/null | wc -l)
        echo "process $MEDIC_PARAM_HOLDER_PID holds $n deleted files"
        [ "$n" -eq 0 ]
      retries: 5
      delay: 2s
', '2a1ff186afb7a0dff0b94cd9f1685a9c71bce1f37246b13bc0869f7e8f408463', 'medic', '2026-12-08 03:35:54.604178+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8dfed788893ca2558fa31a763', NULL, 'remove-stale-lock', 1, 'Remove a stale lock or pid file whose owner is gone (re-checked just before), optionally restart the service it blocked; check it is gone or names a live process.', 'medium', '# A lock or pid file left by a process that crashed keeps its program from starting again. Removes
# it only after checking, right before, that it still names the same pid, that no such process
# runs (or that the pid now belongs to another program), and that nobody holds a lock on it.
name: remove-stale-lock
version: 1
description: Remove a stale lock or pid file whose owner is gone (re-checked just before), optionally restart the service it blocked; check it is gone or names a live process.
risk: medium
remediates:
  types: [stale_lock, service_down, service_failed]
parameters:
  path:
    type: string
    description: the lock or pid file (*.pid, *.lock, *.lck, or a file named LOCK, lock or lockfile); not under a system directory
    pattern: ''(?!/(bin|boot|dev|etc|lib|lib32|lib64|libx32|proc|sbin|sys|usr)/)(?!.*//)(?!(.*/)?\.\.?(/|$))(/[A-Za-z0-9._@-]+)*/([A-Za-z0-9._@-]+\.(pid|lock|lck)|LOCK|lock|lockfile)''
    required: true
  owner_pid:
    type: int
    description: the pid the file names (from the diagnosis); the file is left alone if it names another
    min: 1
    max: 4194304
    required: true
  program:
    type: string
    description: the program that should own it, as /proc/PID/comm shows it; a live pid running another program counts as gone (empty for none)
    pattern: ''([A-Za-z0-9_][A-Za-z0-9._+-]{0,63})?''
    default: ''''
  restart_unit:
    type: string
    description: the service to start again once the file is gone (empty for none)
    pattern: ''([A-Za-z0-9@_][A-Za-z0-9@._:-]{0,199})?''
    default: ''''
targets: incident
steps:
  - name: the owner is still gone
    shell: |
      f="$MEDIC_PARAM_PATH"
      [ -f "$f" ] || { echo "$f is already gone"; exit 0; }
      pid=$(head -n 1 "$f" | tr -d ''[:space:]'')
      [ "$pid" = "$MEDIC_PARAM_OWNER_PID" ] || { echo "$f now names ''$pid'', not $MEDIC_PARAM_OWNER_PID: left alone"; exit 1; }
      if [ -d "/proc/$pid" ] && [ "$(sed -n ''s/^State:[[:space:]]*\(.\).*/\1/p'' "/proc/$pid/status" 2>/dev/null)" != Z ]; then
        comm=$(cat "/proc/$pid/comm" 2>/dev/null)
        if [ -z "$MEDIC_PARAM_PROGRAM" ] || [ "$comm" = "$MEDIC_PARAM_PROGRAM" ]; then
          echo "process $pid ($comm) is alive: $f is not stale"; exit 1
        fi
        echo "pid $pid now belongs to $comm, not $MEDIC_PARAM_PROGRAM: the owner is gone"
      else
        echo "process $pid is not running"
      fi
      ino=$(stat -c %i "$f")
      if awk -v ino="$ino" ''{ n = split($0, f, " "); for (i = 1; i <= n; i++) if (f[i] ~ /^[0-9a-f]+:[0-9a-f]+:[0-9]+$/) { split(f[i], id, ":"); if (id[3] == ino) found = 1 } } END { exit !found }'' /proc/locks; then
        echo "a process holds a lock on $f: not stale"; exit 1
      fi
  - name: remove the file
    run: [rm, -f, --, ''${{ params.path }}'']
  - name: start the service again
    when: params.restart_unit != ''''
    service:
      action: restart
      unit: ${{ params.restart_unit }}
    timeout: 2m
  - name: the file is gone or names a live process
    check:
      shell: |
        f="$MEDIC_PARAM_PATH"
        [ -e "$f" ] || { echo "$f is gone"; exit 0; }
        pid=$(head -n 1 "$f" | tr -d ''[:space:]'')
        [ -n "$pid" ] && [ "$pid" != "$MEDIC_PARAM_OWNER_PID" ] && [ -d "/proc/$pid" ] && { echo "$f names $pid, which runs"; exit 0; }
        echo "$f is still there naming ''$pid''"; exit 1
      retries: 5
      delay: 2s
', '5e0b6299b7ffadb3065c94514782ff0c6c33810d24b4dcbba1bca1a717123f14', 'medic', '2026-12-08 03:35:54.605009+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8dfed7f33b21319be331e1f6d', NULL, 'renew-certificate', 1, 'Renew a Let''s Encrypt certificate with certbot, reload the web server, and check the certificate has at least 30 days left.', 'medium', 'name: renew-certificate
version: 1
description: Renew a Let''s Encrypt certificate with certbot, reload the web server, and check the certificate has at least 30 days left.
risk: medium
remediates:
  types: [certificate_expiring]
parameters:
  cert_name:
    type: string
    description: the certificate''s name in certbot (certbot certificates lists them)
    pattern: ''[A-Za-z0-9][A-Za-z0-9._-]{0,252}''
    required: true
  reload_unit:
    type: string
    description: the service to reload so it serves the new certificate (empty for none)
    pattern: ''([A-Za-z0-9@_][A-Za-z0-9@._:-]{0,199})?''
    default: nginx
targets: incident
steps:
  - name: renew
    run: [certbot, renew, --non-interactive, --cert-name, ''${{ params.cert_name }}'']
    timeout: 5m
  - name: reload the web server
    when: params.reload_unit != ''''
    run: [systemctl, reload, ''${{ params.reload_unit }}'']
  - name: the certificate has 30 days or more
    check:
      shell: |
        certbot certificates --cert-name "$MEDIC_PARAM_CERT_NAME" 2>/dev/null | grep -E ''VALID: ([3-9][0-9]|[0-9]{3,}) days''
', 'f5627e921a38662ae26687e7a15630ecb71786d06ef2839263e43cc4859265c3', 'medic', '2026-12-08 03:35:54.605686+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8dfee7dfb8f0772294a2d6ce1', NULL, 'renice-process', 1, 'Lower a runaway process''s CPU priority (renice, every thread) and give it the idle I/O class, if the PID is still the named program.', 'medium', '# Lowers the CPU and disk priority of one runaway process instead of stopping it: renice (every
# thread: on Linux a priority belongs to each thread) and the idle I/O class. Checks first that the
# PID still belongs to the named program (a PID can be reused between the alert and the fix).
name: renice-process
version: 1
description: Lower a runaway process''s CPU priority (renice, every thread) and give it the idle I/O class, if the PID is still the named program.
risk: medium
remediates:
  types: [process_runaway, cpu_high]
parameters:
  pid:
    type: int
    description: the process id
    min: 2
    max: 4194304
    required: true
  process:
    type: string
    description: the program the PID must belong to, as ps -o comm shows it
    pattern: ''[A-Za-z0-9_][A-Za-z0-9._-]{0,14}''
    required: true
  niceness:
    type: int
    description: the nice value to set (19 is the lowest priority)
    min: 1
    max: 19
    default: 10
targets: incident
steps:
  - name: the PID is still that program
    shell: |
      comm=$(cat "/proc/$MEDIC_PARAM_PID/comm" 2>/dev/null) || { echo "no process $MEDIC_PARAM_PID"; exit 1; }
      [ "$comm" = "$MEDIC_PARAM_PROCESS" ] || { echo "process $MEDIC_PARAM_PID is $comm, not $MEDIC_PARAM_PROCESS"; exit 1; }
  - name: renice every thread
    shell: |
      for task in /proc/"$MEDIC_PARAM_PID"/task/*; do
        tid=${task##*/}
        # setpriority(2) sets the value: renice --priority is absolute on every util-linux version.
        renice --priority "$MEDIC_PARAM_NICENESS" -p "$tid" >/dev/null 2>&1 || [ ! -d "$task" ] || { echo "renice failed for thread $tid"; exit 1; }
      done
      echo "process $MEDIC_PARAM_PID ($MEDIC_PARAM_PROCESS) reniced to $MEDIC_PARAM_NICENESS"
  - name: idle I/O class
    continue_on_error: true
    shell: |
      command -v ionice >/dev/null || { echo "ionice is not installed: only the CPU priority was lowered"; exit 1; }
      for task in /proc/"$MEDIC_PARAM_PID"/task/*; do ionice -c 3 -p "${task##*/}" 2>/dev/null; done
      ionice -p "$MEDIC_PARAM_PID"
  - name: every thread runs at the lower priority
    check:
      shell: |
        [ -d "/proc/$MEDIC_PARAM_PID" ] || { echo "process $MEDIC_PARAM_PID has exited"; exit 0; }
        for stat in /proc/"$MEDIC_PARAM_PID"/task/*/stat; do
          nice=$(sed ''s/.*) //'' "$stat" 2>/dev/null | awk ''{print $17}'') || continue
          [ -z "$nice" ] || [ "$nice" -ge "$MEDIC_PARAM_NICENESS" ] || { echo "thread ${stat%/stat} runs at nice $nice"; exit 1; }
        done
        echo "every thread of $MEDIC_PARAM_PID runs at nice $MEDIC_PARAM_NICENESS or lower priority"
      retries: 3
      delay: 1s
', '16daf6b6f269a9ebf0067e8c8a39dca8ef3d9fdfc16159bdc70d8a26dee95843', 'medic', '2026-12-08 03:35:54.606238+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8dff87b7f90cec4a278898ca3', NULL, 'restart-docker-container', 1, 'Restart a Docker container and check that it is running again.', 'low', 'name: restart-docker-container
version: 1
description: Restart a Docker container and check that it is running again.
risk: low
remediates:
  types: [container_down, container_unhealthy]
parameters:
  container:
    type: string
    description: the container''s name or id
    pattern: ''[A-Za-z0-9][A-Za-z0-9_.-]{0,127}''
    required: true
targets: incident
steps:
  - name: restart the container
    run: [docker, restart, ''${{ params.container }}'']
    timeout: 2m
  - name: the container is running
    check:
      run: [docker, inspect, --format, ''{{.State.Running}} {{if .State.Health}}{{.State.Health.Status}}{{end}}'', ''${{ params.container }}'']
      expect_output: ''^true( healthy| starting)?\s*$''
      retries: 10
      delay: 3s
', '77b0ffbf0330822b80667963dccd4aea4b5ae289e6c7fb7005c4d6c36cfbc4b4', 'medic', '2026-12-08 03:35:54.615904+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8e00f73a791aa0355b18d58d1', NULL, 'restart-process', 2, 'Restart one instance of a program (by PID, or by name when only one runs); its supervisor starts it again. Checks the old instance is gone and the instance is back (its port served again, when given).', 'low', '# For a process a supervisor (systemd, runit, supervisord, a shell loop, a container runtime)
# brings back. The pipeline pins `pid` (and `port` when the evidence names one) to the one instance
# the incident is about, so with two instances of one program (blue/green, one per port) only the
# broken one is signalled. Run by hand with only a name, it refuses when several instances run.
name: restart-process
version: 2
description: Restart one instance of a program (by PID, or by name when only one runs); its supervisor starts it again. Checks the old instance is gone and the instance is back (its port served again, when given).
risk: low
remediates:
  types: [process_stuck, process_unresponsive, http_check_failed, tcp_check_failed, endpoint_down]
parameters:
  process:
    type: string
    description: the program, as ps -o comm shows it or the file name of its executable or first argument
    pattern: ''[A-Za-z0-9_][A-Za-z0-9._-]{0,63}''
    required: true
  pid:
    type: int
    description: ''the instance to restart, which must still be that program (empty: the only running instance of the program)''
    min: 2
    max: 4194304
  port:
    type: int
    description: the TCP port the instance serves; the check waits until it is served again
    min: 1
    max: 65535
  signal:
    type: enum
    description: the signal to send (a process still running 10 s after TERM, INT or QUIT gets SIGKILL)
    values: [TERM, INT, QUIT]
    default: TERM
targets: incident
steps:
  - name: the instance to restart
    shell: |
      names() {
        cat "/proc/$1/comm" 2>/dev/null
        tr ''\0'' ''\n'' < "/proc/$1/cmdline" 2>/dev/null | head -n 2 | while IFS= read -r arg; do b=${arg##*/}; echo "$b"; echo "${b%.*}"; done
      }
      if [ -n "$MEDIC_PARAM_PID" ]; then
        [ -r "/proc/$MEDIC_PARAM_PID/cmdline" ] || { echo "no process $MEDIC_PARAM_PID runs"; exit 1; }
        names "$MEDIC_PARAM_PID" | grep -qxF -- "$MEDIC_PARAM_PROCESS" || { echo "process $MEDIC_PARAM_PID is $(cat "/proc/$MEDIC_PARAM_PID/comm"), not $MEDIC_PARAM_PROCESS"; exit 1; }
        echo "$MEDIC_PARAM_PID"
        exit 0
      fi
      pids=$(pgrep -x -- "$MEDIC_PARAM_PROCESS" | tr ''\n'' '' '')
      set -- $pids
      [ $# -gt 0 ] || { echo "no $MEDIC_PARAM_PROCESS process runs"; exit 1; }
      [ $# -eq 1 ] || { echo "$# instances of $MEDIC_PARAM_PROCESS run (pids $pids): say which one with the pid parameter"; exit 1; }
      echo "$1"
    capture: old_pid
  - name: its program
    shell: cat "/proc/$MEDIC_CAPTURE_OLD_PID/comm"
    capture: old_comm
  - name: how many of that program run
    shell: cat /proc/[0-9]*/comm 2>/dev/null | grep -cxF -- "$MEDIC_CAPTURE_OLD_COMM" || true
    capture: before
  - name: signal it
    shell: |
      kill -s "$MEDIC_PARAM_SIGNAL" "$MEDIC_CAPTURE_OLD_PID" || exit 1
      alive() { s=$(sed -n ''s/^State:[[:space:]]*\(.\).*/\1/p'' "/proc/$1/status" 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }
      i=0
      while [ $i -lt 20 ] && alive "$MEDIC_CAPTURE_OLD_PID"; do sleep 0.5; i=$((i + 1)); done
      if alive "$MEDIC_CAPTURE_OLD_PID"; then
        echo "process $MEDIC_CAPTURE_OLD_PID still runs 10 s after SIG$MEDIC_PARAM_SIGNAL: sending SIGKILL"
        kill -s KILL "$MEDIC_CAPTURE_OLD_PID"
      fi
      echo "process $MEDIC_CAPTURE_OLD_PID signalled"
  - name: the instance runs again
    check:
      shell: |
        s=$(sed -n ''s/^State:[[:space:]]*\(.\).*/\1/p'' "/proc/$MEDIC_CAPTURE_OLD_PID/status" 2>/dev/null)
        if [ -n "$s" ] && [ "$s" != Z ]; then echo "the old process $MEDIC_CAPTURE_OLD_PID still runs"; exit 1; fi
        if [ -n "$MEDIC_PARAM_PORT" ]; then
          hex=$(printf '':%04X'' "$MEDIC_PARAM_PORT")
          awk -v p="$hex" ''FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }'' /proc/net/tcp /proc/net/tcp6 2>/dev/null \
            || { echo "nothing listens on port $MEDIC_PARAM_PORT yet"; exit 1; }
          echo "port $MEDIC_PARAM_PORT is served again"
          exit 0
        fi
        now=$(cat /proc/[0-9]*/comm 2>/dev/null | grep -cxF -- "$MEDIC_CAPTURE_OLD_COMM" || true)
        [ "$now" -ge "$MEDIC_CAPTURE_BEFORE" ] || { echo "$now of $MEDIC_CAPTURE_BEFORE instances run"; exit 1; }
        echo "$MEDIC_PARAM_PROCESS runs again ($now instances of $MEDIC_CAPTURE_OLD_COMM)"
      retries: 10
      delay: 3s
', '63a160a9cf9dc93a165a053bd1af3199150df64d6374ca220cdac184e6da0f1e', 'medic', '2026-12-08 03:35:54.638819+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8e0187bdea9a1eebc85d97c39', NULL, 'restart-service-of-process', 1, 'Restart the systemd service of a runaway or leaking process, if the PID is still that program in that unit; check the service is active again.', 'medium', '# Restarts the systemd service a runaway or leaking process runs in. Medium risk, unlike
# restart-service: the service is up, and a restart interrupts whatever it is doing. Checks first
# that the PID is still that program and still in that unit (a PID can be reused, and the service
# may have been restarted since), then restarts the unit and checks it is active again.
name: restart-service-of-process
version: 1
description: Restart the systemd service of a runaway or leaking process, if the PID is still that program in that unit; check the service is active again.
risk: medium
remediates:
  types: [process_runaway, process_leaking, cpu_high, memory_high]
parameters:
  unit:
    type: string
    description: the systemd unit the process runs in, such as shop.service
    pattern: ''[A-Za-z0-9@_][A-Za-z0-9@._:-]{0,199}''
    required: true
  pid:
    type: int
    description: the id of the runaway process
    min: 2
    max: 4194304
    required: true
  process:
    type: string
    description: the program the PID must belong to, as ps -o comm shows it
    pattern: ''[A-Za-z0-9_][A-Za-z0-9._-]{0,14}''
    required: true
targets: incident
steps:
  - name: the PID is still that program in that unit
    shell: |
      comm=$(cat "/proc/$MEDIC_PARAM_PID/comm" 2>/dev/null) || { echo "no process $MEDIC_PARAM_PID: it is gone, nothing to restart"; exit 1; }
      [ "$comm" = "$MEDIC_PARAM_PROCESS" ] || { echo "process $MEDIC_PARAM_PID is $comm, not $MEDIC_PARAM_PROCESS"; exit 1; }
      unit=$MEDIC_PARAM_UNIT
      case $unit in *.*) ;; *) unit=$unit.service ;; esac
      awk -F: -v u="$unit" ''{ n = split($3, p, "/"); if (p[n] == u) found = 1 } END { exit !found }'' "/proc/$MEDIC_PARAM_PID/cgroup" || { echo "process $MEDIC_PARAM_PID is not in $unit: $(tr ''\n'' '' '' < "/proc/$MEDIC_PARAM_PID/cgroup")"; exit 1; }
  - name: restart the service
    service:
      action: restart
      unit: ${{ params.unit }}
    timeout: 2m
  - name: the service is active again
    check:
      diag: service-status
      args:
        unit: ${{ params.unit }}
      expect_output: ''Active: active \(running\)''
      retries: 5
      delay: 3s
', '6e25fceec40bd72aedd9859edbcc71898a157d3ba73e37bbf69d3a77ddc5be5f', 'medic', '2026-12-08 03:35:54.647349+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8e01b74ed846d07c264436af3', NULL, 'restart-service', 1, 'Restart a systemd service and check that it is active again.', 'low', '# Restarts a systemd service through the agent''s ''service'' capability and checks it is running again.
name: restart-service
version: 1
description: Restart a systemd service and check that it is active again.
risk: low
remediates:
  types: [service_down, service_failed, check_failed]
parameters:
  unit:
    type: string
    description: the systemd unit, such as nginx or nginx.service
    pattern: ''[A-Za-z0-9@_][A-Za-z0-9@._:-]{0,199}''
    required: true
targets: incident
steps:
  - name: restart the service
    service:
      action: restart
      unit: ${{ params.unit }}
    timeout: 2m
  - name: the service is active again
    check:
      diag: service-status
      args:
        unit: ${{ params.unit }}
      expect_output: ''Active: active \(running\)''
      retries: 5
      delay: 3s
', '7cf7cdcbc7466a14be11e948625e3fcce27e1ee01e7e504166f6b3a034c0d5e7', 'medic', '2026-12-08 03:35:54.650761+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8e01d740c9a3263c954ba82db', NULL, 'rotate-large-logs', 1, 'Compress and rotate (copy-truncate) the *.log files above a size under a directory; check none is left that large.', 'medium', '# For logs nobody rotates: each large *.log under the directory is compressed to NAME.log.TIMESTAMP.gz
# and emptied in place (copy-truncate), so the program writing it keeps its open file.
name: rotate-large-logs
version: 1
description: Compress and rotate (copy-truncate) the *.log files above a size under a directory; check none is left that large.
risk: medium
remediates:
  types: [disk_full, disk_filling]
parameters:
  directory:
    type: string
    description: an absolute directory, such as /var/log/myapp; not / and not a system directory
    pattern: ''(?!/(bin|boot|dev|etc|lib|lib32|lib64|libx32|proc|sbin|sys|usr)(/|$))(?!/(var|home|root|run|srv|opt|mnt|media)/?$)(?!.*//)(?!(.*/)?\.\.?(/|$))/[A-Za-z0-9._/-]{1,250}''
    default: /var/log
  min_size_mb:
    type: int
    description: rotate files larger than this many MiB
    min: 1
    max: 100000
    default: 100
targets: incident
steps:
  - name: rotate large logs
    timeout: 30m
    shell: |
      set -eu
      find "$MEDIC_PARAM_DIRECTORY" -xdev -type f -name ''*.log'' -size +"$MEDIC_PARAM_MIN_SIZE_MB"M | while IFS= read -r f; do
        archive="$f.$(date +%Y%m%d%H%M%S).gz"
        gzip -c -- "$f" > "$archive"
        : > "$f"
        echo "rotated $f to $archive"
      done
  - name: no log is left that large
    check:
      shell: |
        left=$(find "$MEDIC_PARAM_DIRECTORY" -xdev -type f -name ''*.log'' -size +"$MEDIC_PARAM_MIN_SIZE_MB"M | wc -l)
        echo "$left large log files left"
        [ "$left" -eq 0 ]
', '8b205a530c524a00ddea6ac642cba372a2ebb8228e716cc45f1f3950967d5697', 'medic', '2026-12-08 03:35:54.653062+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8e01e7b3c9a1d69e3b797a4d7', NULL, 'truncate-deleted-files', 1, 'Truncate the deleted files a process still holds open (through /proc/PID/fd), if it is still the named program; check they hold no space.', 'high', '# For a process that is no systemd service (nothing to restart): empties the deleted files it holds
# open through /proc/PID/fd/N, which frees their space at once. The program keeps writing to the
# same (now empty) file; anything it meant to read back from one is lost, hence high risk.
name: truncate-deleted-files
version: 1
description: Truncate the deleted files a process still holds open (through /proc/PID/fd), if it is still the named program; check they hold no space.
risk: high
remediates:
  types: [disk_full, disk_filling]
parameters:
  holder_pid:
    type: int
    description: the process holding the deleted files
    min: 2
    max: 4194304
    required: true
  holder_process:
    type: string
    description: the program the PID must belong to, as ps -o comm shows it
    pattern: ''[A-Za-z0-9_][A-Za-z0-9._+-]{0,14}''
    required: true
targets: incident
steps:
  - name: the PID is still that program
    shell: |
      comm=$(cat "/proc/$MEDIC_PARAM_HOLDER_PID/comm" 2>/dev/null) || { echo "no process $MEDIC_PARAM_HOLDER_PID"; exit 1; }
      [ "$comm" = "$MEDIC_PARAM_HOLDER_PROCESS" ] || { echo "process $MEDIC_PARAM_HOLDER_PID is $comm, not $MEDIC_PARAM_HOLDER_PROCESS"; exit 1; }
  - name: truncate its deleted files
    shell: |
      find "/proc/$MEDIC_PARAM_HOLDER_PID/fd" -lname ''/* (deleted)'' 2>/dev/null | while IFS= read -r fd; do
        [ -f "$fd" ] || continue
        echo "truncating $(readlink "$fd") ($(stat -L -c %s "$fd") bytes) through $fd"
        : > "$fd"
      done
  - name: its deleted files hold less than 1 MiB
    check:
      shell: |
        held=$(find "/proc/$MEDIC_PARAM_HOLDER_PID/fd" -lname ''/* (deleted)'' 2>/dev/null | while IFS= read -r fd; do stat -L -c %s "$fd"; done | awk ''{ s += $1 } END { print s + 0 }'')
        echo "process $MEDIC_PARAM_HOLDER_PID holds $held bytes in deleted files"
        [ "$held" -lt 1048576 ]
', 'ac0faf229965e1fe34beaa8343ea6e5aee97226f8b82e4830a79712a9276d125', 'medic', '2026-12-08 03:35:54.653848+00');
INSERT INTO public.runbook_versions VALUES ('rbv_01a253b8e01e7642acbd5190c7ee16fc', NULL, 'vacuum-journal', 1, 'Rotate the systemd journal and vacuum it down to a size limit; check it fits.', 'medium', '# Shrinks the systemd journal to a size limit: rotates the active files, then removes the oldest archived ones.
name: vacuum-journal
version: 1
description: Rotate the systemd journal and vacuum it down to a size limit; check it fits.
risk: medium
remediates:
  types: [disk_full, disk_filling]
parameters:
  max_size:
    type: string
    description: the journal''s size limit, a number and K, M or G
    pattern: ''[1-9][0-9]{0,5}[KMG]''
    default: 500M
targets: incident
steps:
  - name: journal size before
    run: [journalctl, --disk-usage]
  - name: rotate and vacuum
    timeout: 5m
    shell: journalctl --rotate && journalctl --vacuum-size="$MEDIC_PARAM_MAX_SIZE"
  - name: the journal fits
    check:
      shell: |
        limit=$(numfmt --from=iec "$MEDIC_PARAM_MAX_SIZE")
        used=$(du -sb /var/log/journal /run/log/journal 2>/dev/null | awk ''{ s += $1 } END { print s + 0 }'')
        echo "the journal uses $used bytes; the limit is $limit"
        # The files just rotated in stay whatever the limit: allow them 128 MiB.
        [ "$used" -le $((limit + 134217728)) ]
', 'd4c3c95b32c2b4aa08064210f0dd8c12dc4caf1b7c60b799af7f8c68101ee8b3', 'medic', '2026-12-08 03:35:54.65445+00');


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_migrations VALUES (1, 'foundation', '2e1db2a240abd3cd53218e1cd33e0b9cb75e55520aa93e24a50dec8614c319af', '2026-12-08T03:35:53.3044341+00:00');
INSERT INTO public.schema_migrations VALUES (2, 'fleet', 'ac985b0b02d5f76e0e3ed9a5df67e1b620d9681728d9486dc6f71282430fb4b0', '2026-12-08T03:35:53.3833687+00:00');
INSERT INTO public.schema_migrations VALUES (3, 'executions', '500c2839dc54bd849d6da4ce52030ff365d3d27d677bbcf4690ab0f6f356e38d', '2026-12-08T03:35:53.4261956+00:00');
INSERT INTO public.schema_migrations VALUES (4, 'metrics_history', '872b4d3cd8b5fad96174dcc2033718b32c426d065a353466662c06504a6b2c3f', '2026-12-08T03:35:53.4605227+00:00');
INSERT INTO public.schema_migrations VALUES (5, 'agentless', '9aebc0c3db379305bd29d47abb616f7aff11f6cbbeb7d1cb4dc42c012df73bcd', '2026-12-08T03:35:53.4656786+00:00');
INSERT INTO public.schema_migrations VALUES (6, 'incidents', '92a2140dd1be39cd602d07b939f192a364b7eefe2c682bff0388cf1ad44f07e7', '2026-12-08T03:35:53.5023030+00:00');
INSERT INTO public.schema_migrations VALUES (7, 'webhooks', 'b22293028538cf410477f9a2b4663b60d8ace7a705b86be3e080a4c1dee0b531', '2026-12-08T03:35:53.5217925+00:00');
INSERT INTO public.schema_migrations VALUES (9, 'checks', 'bf335778725d1783007ee0253f0c1ee7c16b8af0632472f8b81b16714feae4db', '2026-12-08T03:35:53.5475493+00:00');
INSERT INTO public.schema_migrations VALUES (10, 'jobs', '584807ae05fe69963a78f00f4f6e811fd290cf6cdc80d1d0ec4466f9a88775d9', '2026-12-08T03:35:53.5676099+00:00');
INSERT INTO public.schema_migrations VALUES (11, 'runbooks', 'ff13366686a8905f7c20944d189a2b65d4656a61df60d228a1ce32aef2a3007c', '2026-12-08T03:35:53.5938021+00:00');
INSERT INTO public.schema_migrations VALUES (12, 'notifications', '848def58e9617a3026adfa104e392dd33dcd8ad4db50b6bec1f3c02eb2ec1785', '2026-12-08T03:35:53.7173179+00:00');
INSERT INTO public.schema_migrations VALUES (13, 'monitors', 'a6cb52e3b8e13032aa3b8b985bcc0ae5821b90a4543374f2a31cfa48478c9a2f', '2026-12-08T03:35:53.7738971+00:00');
INSERT INTO public.schema_migrations VALUES (14, 'pipeline', 'fd9753253198535948c20a6370debc64eee66f4856a0eb5d6aa3c7ae7c949b12', '2026-12-08T03:35:53.8751415+00:00');
INSERT INTO public.schema_migrations VALUES (15, 'alert_identity', 'dbc32952e4176b3922decbecd085da64e3ba96d9260aaf93d1a07d34368951c0', '2026-12-08T03:35:53.9004623+00:00');
INSERT INTO public.schema_migrations VALUES (16, 'webhook_ops', 'b7ae8515d5c427d699be6dd9ba35e71ccf43163b7bd371dc441a19418aeac1a8', '2026-12-08T03:35:53.9200340+00:00');
INSERT INTO public.schema_migrations VALUES (18, 'sessions', '45d6f915a0f89fb7731a59138e18d892383f35fc3530e00e3e5ae847833f3253', '2026-12-08T03:35:53.9309626+00:00');
INSERT INTO public.schema_migrations VALUES (19, 'audit_checkpoints', '69948e7070df5a0257081a4972771205f6c4e6a7630a418e795dbf7533a5b57e', '2026-12-08T03:35:53.9492405+00:00');
INSERT INTO public.schema_migrations VALUES (20, 'alert_types', 'd4d761e592c58acff6534ddd4c62803a3038a3d093bc2b4d27cbff3fee76843e', '2026-12-08T03:35:53.9912295+00:00');
INSERT INTO public.schema_migrations VALUES (21, 'secrets', 'ef428eb2a8709bf4a3b21873ae8059908e6c8bb9b77d088189f7a9295aa94c25', '2026-12-08T03:35:54.0008196+00:00');
INSERT INTO public.schema_migrations VALUES (22, 'ai_models', '060f881846c9eadcb99ae80b34edb499f696ecf2404e255f05580adffeb4df29', '2026-12-08T03:35:54.0469956+00:00');
INSERT INTO public.schema_migrations VALUES (23, 'ai_agents', 'ba38b32beb6af335387d10410ad1d4a7cf53421e2ec9035966b434b8685b0150', '2026-12-08T03:35:54.0914846+00:00');
INSERT INTO public.schema_migrations VALUES (24, 'ai_runs', '0ce26d32ff8d46a524fd9dd9ecf16fe2f548a8e0ce8dd924325ba0a515fa7f64', '2026-12-08T03:35:54.1267610+00:00');
INSERT INTO public.schema_migrations VALUES (25, 'ai_tools', 'eb937218f5795fbcbe14250d70b3cbcaad8a55e56f52aa3a2006f62854a88953', '2026-12-08T03:35:54.1471797+00:00');
INSERT INTO public.schema_migrations VALUES (26, 'console_indexes', '74741faf0953969758c71cc7738a965bda4259ad833f5599fae55b1cb8b7a908', '2026-12-08T03:35:54.1550656+00:00');


--
-- Data for Name: secrets; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.secrets VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 'fixture-secret', 'v1.Eec48ze5VKN+amat6Y2gzQ0df62O6+ky+DQmnmEm/a8IChC3WcvKu58WQn0IBRBd', 20, '', 'user:admin', '2026-12-08 03:36:07.752452+00', 'user:admin', '2026-12-08 03:36:07.752452+00');


--
-- Data for Name: silenced_incidents; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: silences; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: tenants; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tenants VALUES ('ten_01a253b8ebad7885aad263e4a449b20f', 'default', 'Default', '2026-12-08 03:35:57.61325+00');
INSERT INTO public.tenants VALUES ('ten_01a253b91f0570918e1be64d57329776', 'acme', 'Acme Corp', '2026-12-08 03:36:10.757828+00');


--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.users VALUES ('usr_01a253b8ebad7a9c83129ceef96f4dea', 'ten_01a253b8ebad7885aad263e4a449b20f', 'admin', NULL, 'AQAAAAIAAYagAAAAEOvOujHGIN8N2AZIgHMnD7aOLZ97WDlmc1I5Sb4nZnvdgiI5UnUzAT2ym3ksopy5Hg==', 'admin', true, false, '2026-12-08 03:35:57.61325+00', '2026-12-08 03:36:00.374982+00');
INSERT INTO public.users VALUES ('usr_01a253b91f0571b3a385958eb54150b7', 'ten_01a253b91f0570918e1be64d57329776', 'acme-admin', NULL, 'AQAAAAIAAYagAAAAEO55r7veH9nz1ZgKBOfy4KcHlEKYrAwsfU0uakQseTriuuAHuwfIPzaRd+Wqd2+NtA==', 'admin', false, false, '2026-12-08 03:36:10.757828+00', NULL);


--
-- Data for Name: webhook_credentials; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: webhook_deliveries; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: webhook_mappings; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: webhook_refusal_counts; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: webhook_source_credentials; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Name: ai_usage_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.ai_usage_id_seq', 1, false);


--
-- Name: incident_events_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.incident_events_seq_seq', 2, true);


--
-- Name: webhook_deliveries_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.webhook_deliveries_seq_seq', 1, false);


--
-- Name: ai_agent_roles ai_agent_roles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_agent_roles
    ADD CONSTRAINT ai_agent_roles_pkey PRIMARY KEY (tenant_id, role);


--
-- Name: ai_agents ai_agents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_agents
    ADD CONSTRAINT ai_agents_pkey PRIMARY KEY (tenant_id, name);


--
-- Name: ai_budgets ai_budgets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_budgets
    ADD CONSTRAINT ai_budgets_pkey PRIMARY KEY (tenant_id);


--
-- Name: ai_models ai_models_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_models
    ADD CONSTRAINT ai_models_pkey PRIMARY KEY (id);


--
-- Name: ai_runs ai_runs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_runs
    ADD CONSTRAINT ai_runs_pkey PRIMARY KEY (id);


--
-- Name: ai_sessions ai_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_sessions
    ADD CONSTRAINT ai_sessions_pkey PRIMARY KEY (id);


--
-- Name: ai_skills ai_skills_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_skills
    ADD CONSTRAINT ai_skills_pkey PRIMARY KEY (tenant_id, name);


--
-- Name: ai_tools ai_tools_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_tools
    ADD CONSTRAINT ai_tools_pkey PRIMARY KEY (tenant_id, name);


--
-- Name: ai_usage ai_usage_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_usage
    ADD CONSTRAINT ai_usage_pkey PRIMARY KEY (id);


--
-- Name: alert_type_rules alert_type_rules_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_type_rules
    ADD CONSTRAINT alert_type_rules_pkey PRIMARY KEY (tenant_id, name);


--
-- Name: api_tokens api_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (id);


--
-- Name: api_tokens api_tokens_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash);


--
-- Name: approvals approvals_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.approvals
    ADD CONSTRAINT approvals_pkey PRIMARY KEY (id);


--
-- Name: audit_checkpoints audit_checkpoints_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_checkpoints
    ADD CONSTRAINT audit_checkpoints_pkey PRIMARY KEY (chain, seq);


--
-- Name: audit_heads audit_heads_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_heads
    ADD CONSTRAINT audit_heads_pkey PRIMARY KEY (chain);


--
-- Name: audit_log audit_log_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_id_key UNIQUE (id);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (chain, seq);


--
-- Name: audit_verified audit_verified_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_verified
    ADD CONSTRAINT audit_verified_pkey PRIMARY KEY (chain);


--
-- Name: change_windows change_windows_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.change_windows
    ADD CONSTRAINT change_windows_pkey PRIMARY KEY (id);


--
-- Name: checks checks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.checks
    ADD CONSTRAINT checks_pkey PRIMARY KEY (id);


--
-- Name: console_sessions console_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.console_sessions
    ADD CONSTRAINT console_sessions_pkey PRIMARY KEY (id);


--
-- Name: enrollment_tokens enrollment_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrollment_tokens
    ADD CONSTRAINT enrollment_tokens_pkey PRIMARY KEY (id);


--
-- Name: enrollment_tokens enrollment_tokens_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrollment_tokens
    ADD CONSTRAINT enrollment_tokens_token_hash_key UNIQUE (token_hash);


--
-- Name: execution_results execution_results_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.execution_results
    ADD CONSTRAINT execution_results_pkey PRIMARY KEY (execution_id, server);


--
-- Name: executions executions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.executions
    ADD CONSTRAINT executions_pkey PRIMARY KEY (id);


--
-- Name: incident_deliveries incident_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_deliveries
    ADD CONSTRAINT incident_deliveries_pkey PRIMARY KEY (tenant_id, source, delivery_id);


--
-- Name: incident_events incident_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_events
    ADD CONSTRAINT incident_events_pkey PRIMARY KEY (seq);


--
-- Name: incident_occurrences incident_occurrences_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_occurrences
    ADD CONSTRAINT incident_occurrences_pkey PRIMARY KEY (incident_id, occurrence);


--
-- Name: incidents incidents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_pkey PRIMARY KEY (id);


--
-- Name: jobs jobs_idempotency_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_idempotency_key_key UNIQUE (idempotency_key);


--
-- Name: jobs jobs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);


--
-- Name: monitors monitors_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.monitors
    ADD CONSTRAINT monitors_pkey PRIMARY KEY (id);


--
-- Name: node_metrics node_metrics_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.node_metrics
    ADD CONSTRAINT node_metrics_pkey PRIMARY KEY (node_id, minute);


--
-- Name: nodes nodes_credential_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.nodes
    ADD CONSTRAINT nodes_credential_hash_key UNIQUE (credential_hash);


--
-- Name: nodes nodes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.nodes
    ADD CONSTRAINT nodes_pkey PRIMARY KEY (id);


--
-- Name: notification_channels notification_channels_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_channels
    ADD CONSTRAINT notification_channels_pkey PRIMARY KEY (id);


--
-- Name: notification_deliveries notification_deliveries_idempotency_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_deliveries
    ADD CONSTRAINT notification_deliveries_idempotency_key_key UNIQUE (idempotency_key);


--
-- Name: notification_deliveries notification_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_deliveries
    ADD CONSTRAINT notification_deliveries_pkey PRIMARY KEY (id);


--
-- Name: notification_incident_state notification_incident_state_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_incident_state
    ADD CONSTRAINT notification_incident_state_pkey PRIMARY KEY (incident_id);


--
-- Name: notification_rules notification_rules_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_rules
    ADD CONSTRAINT notification_rules_pkey PRIMARY KEY (id);


--
-- Name: pipeline_settings pipeline_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pipeline_settings
    ADD CONSTRAINT pipeline_settings_pkey PRIMARY KEY (tenant_id);


--
-- Name: readiness_probe readiness_probe_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.readiness_probe
    ADD CONSTRAINT readiness_probe_pkey PRIMARY KEY (id);


--
-- Name: remediations remediations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.remediations
    ADD CONSTRAINT remediations_pkey PRIMARY KEY (id);


--
-- Name: runbook_run_steps runbook_run_steps_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runbook_run_steps
    ADD CONSTRAINT runbook_run_steps_pkey PRIMARY KEY (run_id, seq);


--
-- Name: runbook_runs runbook_runs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runbook_runs
    ADD CONSTRAINT runbook_runs_pkey PRIMARY KEY (id);


--
-- Name: runbook_versions runbook_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runbook_versions
    ADD CONSTRAINT runbook_versions_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: secrets secrets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.secrets
    ADD CONSTRAINT secrets_pkey PRIMARY KEY (tenant_id, name);


--
-- Name: silenced_incidents silenced_incidents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.silenced_incidents
    ADD CONSTRAINT silenced_incidents_pkey PRIMARY KEY (incident_id);


--
-- Name: silences silences_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.silences
    ADD CONSTRAINT silences_pkey PRIMARY KEY (id);


--
-- Name: tenants tenants_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tenants
    ADD CONSTRAINT tenants_pkey PRIMARY KEY (id);


--
-- Name: tenants tenants_slug_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tenants
    ADD CONSTRAINT tenants_slug_key UNIQUE (slug);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: users users_tenant_id_username_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_tenant_id_username_key UNIQUE (tenant_id, username);


--
-- Name: webhook_credentials webhook_credentials_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_credentials
    ADD CONSTRAINT webhook_credentials_pkey PRIMARY KEY (id);


--
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (seq);


--
-- Name: webhook_mappings webhook_mappings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_mappings
    ADD CONSTRAINT webhook_mappings_pkey PRIMARY KEY (tenant_id, name);


--
-- Name: webhook_refusal_counts webhook_refusal_counts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_refusal_counts
    ADD CONSTRAINT webhook_refusal_counts_pkey PRIMARY KEY (tenant_id, source, reason);


--
-- Name: webhook_source_credentials webhook_source_credentials_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_source_credentials
    ADD CONSTRAINT webhook_source_credentials_pkey PRIMARY KEY (id);


--
-- Name: ai_models_by_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ai_models_by_name ON public.ai_models USING btree (tenant_id, name);


--
-- Name: ai_runs_tenant_incident; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ai_runs_tenant_incident ON public.ai_runs USING btree (tenant_id, incident_id);


--
-- Name: ai_runs_tenant_started; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ai_runs_tenant_started ON public.ai_runs USING btree (tenant_id, started_at);


--
-- Name: ai_sessions_owner; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ai_sessions_owner ON public.ai_sessions USING btree (tenant_id, owner, updated_at);


--
-- Name: ai_usage_by_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ai_usage_by_time ON public.ai_usage USING btree (tenant_id, at);


--
-- Name: api_tokens_tenant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX api_tokens_tenant ON public.api_tokens USING btree (tenant_id);


--
-- Name: approvals_remediation; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX approvals_remediation ON public.approvals USING btree (remediation_id);


--
-- Name: approvals_tenant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX approvals_tenant ON public.approvals USING btree (tenant_id, status, created_at);


--
-- Name: audit_log_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_log_at ON public.audit_log USING btree (chain, at);


--
-- Name: change_windows_tenant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX change_windows_tenant ON public.change_windows USING btree (tenant_id, ends_at);


--
-- Name: check_results_check; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX check_results_check ON public.check_results USING btree (check_id, at);


--
-- Name: checks_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX checks_due ON public.checks USING btree (next_run_at) WHERE (removed_at IS NULL);


--
-- Name: checks_tenant_name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX checks_tenant_name ON public.checks USING btree (tenant_id, name) WHERE (removed_at IS NULL);


--
-- Name: console_sessions_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX console_sessions_user ON public.console_sessions USING btree (user_id);


--
-- Name: enrollment_tokens_tenant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX enrollment_tokens_tenant ON public.enrollment_tokens USING btree (tenant_id);


--
-- Name: executions_tenant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX executions_tenant ON public.executions USING btree (tenant_id, created_at);


--
-- Name: incident_deliveries_received; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incident_deliveries_received ON public.incident_deliveries USING btree (received_at);


--
-- Name: incident_events_incident; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incident_events_incident ON public.incident_events USING btree (incident_id, seq);


--
-- Name: incidents_fingerprint_resolved; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incidents_fingerprint_resolved ON public.incidents USING btree (tenant_id, fingerprint, resolved_at);


--
-- Name: incidents_group_key; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incidents_group_key ON public.incidents USING btree (tenant_id, group_key) WHERE (group_key IS NOT NULL);


--
-- Name: incidents_open_fingerprint; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX incidents_open_fingerprint ON public.incidents USING btree (tenant_id, fingerprint) WHERE (resolved_at IS NULL);


--
-- Name: incidents_open_server; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incidents_open_server ON public.incidents USING btree (tenant_id, server_id) WHERE (resolved_at IS NULL);


--
-- Name: incidents_tenant_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incidents_tenant_id ON public.incidents USING btree (tenant_id, id);


--
-- Name: incidents_tenant_seen; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incidents_tenant_seen ON public.incidents USING btree (tenant_id, last_seen_at);


--
-- Name: jobs_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_due ON public.jobs USING btree (status, run_after);


--
-- Name: monitors_tenant_name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX monitors_tenant_name ON public.monitors USING btree (tenant_id, name) WHERE (removed_at IS NULL);


--
-- Name: nodes_tenant_name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX nodes_tenant_name ON public.nodes USING btree (tenant_id, name) WHERE (removed_at IS NULL);


--
-- Name: notification_channels_tenant_name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX notification_channels_tenant_name ON public.notification_channels USING btree (tenant_id, name) WHERE (removed_at IS NULL);


--
-- Name: notification_deliveries_incident; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notification_deliveries_incident ON public.notification_deliveries USING btree (tenant_id, incident_id);


--
-- Name: notification_deliveries_tenant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notification_deliveries_tenant ON public.notification_deliveries USING btree (tenant_id, created_at);


--
-- Name: notification_rules_tenant_name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX notification_rules_tenant_name ON public.notification_rules USING btree (tenant_id, name) WHERE (removed_at IS NULL);


--
-- Name: remediations_breaker; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX remediations_breaker ON public.remediations USING btree (tenant_id, server_id, runbook, status, finished_at);


--
-- Name: remediations_round; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX remediations_round ON public.remediations USING btree (incident_id, round);


--
-- Name: remediations_tenant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX remediations_tenant ON public.remediations USING btree (tenant_id, created_at);


--
-- Name: runbook_runs_idempotency; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX runbook_runs_idempotency ON public.runbook_runs USING btree (tenant_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);


--
-- Name: runbook_runs_tenant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX runbook_runs_tenant ON public.runbook_runs USING btree (tenant_id, created_at);


--
-- Name: runbook_versions_builtin; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX runbook_versions_builtin ON public.runbook_versions USING btree (name, version) WHERE (tenant_id IS NULL);


--
-- Name: runbook_versions_tenant; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX runbook_versions_tenant ON public.runbook_versions USING btree (tenant_id, name, version) WHERE (tenant_id IS NOT NULL);


--
-- Name: silences_tenant_ends; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX silences_tenant_ends ON public.silences USING btree (tenant_id, ends_at);


--
-- Name: webhook_credentials_current; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX webhook_credentials_current ON public.webhook_credentials USING btree (tenant_id, kind) WHERE (expires_at IS NULL);


--
-- Name: webhook_credentials_tenant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_credentials_tenant ON public.webhook_credentials USING btree (tenant_id, kind);


--
-- Name: webhook_deliveries_source; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_source ON public.webhook_deliveries USING btree (tenant_id, source, seq);


--
-- Name: webhook_source_credentials_current; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX webhook_source_credentials_current ON public.webhook_source_credentials USING btree (tenant_id, source, kind);


--
-- Name: audit_log audit_log_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON public.audit_log FOR EACH STATEMENT EXECUTE FUNCTION public.audit_log_refuse_change();


--
-- Name: audit_log audit_log_no_update_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_log_no_update_delete BEFORE DELETE OR UPDATE ON public.audit_log FOR EACH ROW EXECUTE FUNCTION public.audit_log_refuse_change();


--
-- Name: ai_agent_roles ai_agent_roles_tenant_id_agent_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_agent_roles
    ADD CONSTRAINT ai_agent_roles_tenant_id_agent_fkey FOREIGN KEY (tenant_id, agent) REFERENCES public.ai_agents(tenant_id, name) ON DELETE CASCADE;


--
-- Name: ai_agents ai_agents_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_agents
    ADD CONSTRAINT ai_agents_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: ai_budgets ai_budgets_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_budgets
    ADD CONSTRAINT ai_budgets_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: ai_models ai_models_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_models
    ADD CONSTRAINT ai_models_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: ai_runs ai_runs_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_runs
    ADD CONSTRAINT ai_runs_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: ai_sessions ai_sessions_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_sessions
    ADD CONSTRAINT ai_sessions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: ai_skills ai_skills_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_skills
    ADD CONSTRAINT ai_skills_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: ai_tools ai_tools_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_tools
    ADD CONSTRAINT ai_tools_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: ai_usage ai_usage_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ai_usage
    ADD CONSTRAINT ai_usage_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: alert_type_rules alert_type_rules_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_type_rules
    ADD CONSTRAINT alert_type_rules_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: api_tokens api_tokens_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: api_tokens api_tokens_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: approvals approvals_incident_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.approvals
    ADD CONSTRAINT approvals_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES public.incidents(id);


--
-- Name: approvals approvals_remediation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.approvals
    ADD CONSTRAINT approvals_remediation_id_fkey FOREIGN KEY (remediation_id) REFERENCES public.remediations(id);


--
-- Name: approvals approvals_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.approvals
    ADD CONSTRAINT approvals_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: change_windows change_windows_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.change_windows
    ADD CONSTRAINT change_windows_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: check_results check_results_check_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.check_results
    ADD CONSTRAINT check_results_check_id_fkey FOREIGN KEY (check_id) REFERENCES public.checks(id);


--
-- Name: checks checks_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.checks
    ADD CONSTRAINT checks_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: console_sessions console_sessions_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.console_sessions
    ADD CONSTRAINT console_sessions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: console_sessions console_sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.console_sessions
    ADD CONSTRAINT console_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: enrollment_tokens enrollment_tokens_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrollment_tokens
    ADD CONSTRAINT enrollment_tokens_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: execution_results execution_results_execution_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.execution_results
    ADD CONSTRAINT execution_results_execution_id_fkey FOREIGN KEY (execution_id) REFERENCES public.executions(id);


--
-- Name: executions executions_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.executions
    ADD CONSTRAINT executions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: incident_deliveries incident_deliveries_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_deliveries
    ADD CONSTRAINT incident_deliveries_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: incident_events incident_events_incident_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_events
    ADD CONSTRAINT incident_events_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES public.incidents(id);


--
-- Name: incident_occurrences incident_occurrences_incident_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_occurrences
    ADD CONSTRAINT incident_occurrences_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES public.incidents(id);


--
-- Name: incidents incidents_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: jobs jobs_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: monitors monitors_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.monitors
    ADD CONSTRAINT monitors_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: node_metrics node_metrics_node_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.node_metrics
    ADD CONSTRAINT node_metrics_node_id_fkey FOREIGN KEY (node_id) REFERENCES public.nodes(id);


--
-- Name: nodes nodes_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.nodes
    ADD CONSTRAINT nodes_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: notification_channels notification_channels_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_channels
    ADD CONSTRAINT notification_channels_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: notification_deliveries notification_deliveries_channel_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_deliveries
    ADD CONSTRAINT notification_deliveries_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES public.notification_channels(id);


--
-- Name: notification_deliveries notification_deliveries_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_deliveries
    ADD CONSTRAINT notification_deliveries_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: notification_incident_state notification_incident_state_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_incident_state
    ADD CONSTRAINT notification_incident_state_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: notification_rules notification_rules_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_rules
    ADD CONSTRAINT notification_rules_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: pipeline_settings pipeline_settings_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pipeline_settings
    ADD CONSTRAINT pipeline_settings_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: remediations remediations_incident_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.remediations
    ADD CONSTRAINT remediations_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES public.incidents(id);


--
-- Name: remediations remediations_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.remediations
    ADD CONSTRAINT remediations_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: runbook_run_steps runbook_run_steps_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runbook_run_steps
    ADD CONSTRAINT runbook_run_steps_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.runbook_runs(id);


--
-- Name: runbook_runs runbook_runs_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runbook_runs
    ADD CONSTRAINT runbook_runs_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: runbook_versions runbook_versions_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runbook_versions
    ADD CONSTRAINT runbook_versions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: secrets secrets_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.secrets
    ADD CONSTRAINT secrets_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: silenced_incidents silenced_incidents_incident_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.silenced_incidents
    ADD CONSTRAINT silenced_incidents_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES public.incidents(id);


--
-- Name: silenced_incidents silenced_incidents_silence_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.silenced_incidents
    ADD CONSTRAINT silenced_incidents_silence_id_fkey FOREIGN KEY (silence_id) REFERENCES public.silences(id);


--
-- Name: silenced_incidents silenced_incidents_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.silenced_incidents
    ADD CONSTRAINT silenced_incidents_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: silences silences_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.silences
    ADD CONSTRAINT silences_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: users users_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: webhook_credentials webhook_credentials_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_credentials
    ADD CONSTRAINT webhook_credentials_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: webhook_deliveries webhook_deliveries_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: webhook_mappings webhook_mappings_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_mappings
    ADD CONSTRAINT webhook_mappings_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: webhook_refusal_counts webhook_refusal_counts_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_refusal_counts
    ADD CONSTRAINT webhook_refusal_counts_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- Name: webhook_source_credentials webhook_source_credentials_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_source_credentials
    ADD CONSTRAINT webhook_source_credentials_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);


--
-- PostgreSQL database dump complete
--


