-- Incidents: one record per problem, deduplicated by fingerprint, with its occurrences and timeline.
CREATE TABLE incidents (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    server_id         TEXT,
    source            TEXT NOT NULL,
    type              TEXT NOT NULL,
    severity          TEXT NOT NULL,
    status            TEXT NOT NULL,
    fingerprint       TEXT NOT NULL,
    title             TEXT NOT NULL,
    summary           TEXT,
    labels            TEXT NOT NULL,
    evidence          TEXT,
    signal_count      INTEGER NOT NULL,
    flapping          INTEGER NOT NULL DEFAULT 0,
    flap_window_start TEXT NOT NULL,
    flap_changes      INTEGER NOT NULL DEFAULT 0,
    first_seen_at     TEXT NOT NULL,
    last_seen_at      TEXT NOT NULL,
    acknowledged_by   TEXT,
    acknowledged_at   TEXT,
    resolved_at       TEXT,
    resolution        TEXT,
    updated_at        TEXT NOT NULL
);
-- At most one unresolved incident per fingerprint: the dedup rule, enforced by the database too.
CREATE UNIQUE INDEX incidents_open_fingerprint ON incidents (tenant_id, fingerprint) WHERE resolved_at IS NULL;
CREATE INDEX incidents_fingerprint_resolved ON incidents (tenant_id, fingerprint, resolved_at);
CREATE INDEX incidents_tenant_seen ON incidents (tenant_id, last_seen_at);

-- The distinct things that fired inside one incident (for a grouped alert, one row per alert fingerprint).
CREATE TABLE incident_occurrences (
    incident_id   TEXT NOT NULL REFERENCES incidents (id),
    occurrence    TEXT NOT NULL,
    firing        INTEGER NOT NULL,
    signal_count  INTEGER NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    PRIMARY KEY (incident_id, occurrence)
);

CREATE TABLE incident_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    tenant_id   TEXT NOT NULL,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    message     TEXT NOT NULL,
    data        TEXT
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, seq);
