-- One incident per problem per target: the sender's notification group (Alertmanager's groupKey,
-- Datadog's aggregation key) is kept on each incident so notifications can be grouped later.
ALTER TABLE incidents ADD COLUMN group_key text;
CREATE INDEX incidents_group_key ON incidents (tenant_id, group_key) WHERE group_key IS NOT NULL;

-- Delivery ids already folded into incidents (PagerDuty's webhook event id), so a redelivery counts once.
CREATE TABLE incident_deliveries (
    tenant_id    text NOT NULL REFERENCES tenants (id),
    source       text NOT NULL,
    delivery_id  text NOT NULL,
    received_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, source, delivery_id)
);
CREATE INDEX incident_deliveries_received ON incident_deliveries (received_at);

-- Declarative field mappings: a source of the tenant's own naming whose JSON is read by paths.
CREATE TABLE webhook_mappings (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    mapping     text NOT NULL,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
