-- Incidents: one record per problem, deduplicated by fingerprint, with its occurrences and timeline.
CREATE TABLE incidents (
    id                text PRIMARY KEY,
    tenant_id         text NOT NULL REFERENCES tenants (id),
    server_id         text,
    source            text NOT NULL,
    type              text NOT NULL,
    severity          text NOT NULL,
    status            text NOT NULL,
    fingerprint       text NOT NULL,
    title             text NOT NULL,
    summary           text,
    labels            text NOT NULL,
    evidence          text,
    signal_count      integer NOT NULL,
    flapping          boolean NOT NULL DEFAULT false,
    flap_window_start timestamptz NOT NULL,
    flap_changes      integer NOT NULL DEFAULT 0,
    first_seen_at     timestamptz NOT NULL,
    last_seen_at      timestamptz NOT NULL,
    acknowledged_by   text,
    acknowledged_at   timestamptz,
    resolved_at       timestamptz,
    resolution        text,
    updated_at        timestamptz NOT NULL
);
-- At most one unresolved incident per fingerprint: the dedup rule, enforced by the database too.
CREATE UNIQUE INDEX incidents_open_fingerprint ON incidents (tenant_id, fingerprint) WHERE resolved_at IS NULL;
CREATE INDEX incidents_fingerprint_resolved ON incidents (tenant_id, fingerprint, resolved_at);
CREATE INDEX incidents_tenant_seen ON incidents (tenant_id, last_seen_at);

-- The distinct things that fired inside one incident (for a grouped alert, one row per alert fingerprint).
CREATE TABLE incident_occurrences (
    incident_id   text NOT NULL REFERENCES incidents (id),
    occurrence    text NOT NULL,
    firing        boolean NOT NULL,
    signal_count  integer NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (incident_id, occurrence)
);

CREATE TABLE incident_events (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id text NOT NULL REFERENCES incidents (id),
    tenant_id   text NOT NULL,
    at          timestamptz NOT NULL,
    kind        text NOT NULL,
    actor       text NOT NULL,
    message     text NOT NULL,
    data        text
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, seq);
