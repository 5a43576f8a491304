-- The last heartbeat's metrics of each minute, per server, kept for 24 hours.
CREATE TABLE node_metrics (
    node_id    TEXT NOT NULL REFERENCES nodes (id),
    tenant_id  TEXT NOT NULL,
    minute     TEXT NOT NULL,
    metrics    TEXT NOT NULL,
    PRIMARY KEY (node_id, minute)
);
