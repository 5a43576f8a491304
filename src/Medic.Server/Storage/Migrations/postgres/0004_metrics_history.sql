-- The last heartbeat's metrics of each minute, per server, kept for 24 hours.
CREATE TABLE node_metrics (
    node_id    text NOT NULL REFERENCES nodes (id),
    tenant_id  text NOT NULL,
    minute     timestamptz NOT NULL,
    metrics    text NOT NULL,
    PRIMARY KEY (node_id, minute)
);
