-- The console's servers list counts each server's open incidents and filters on "has one":
-- look them up by server instead of scanning the tenant's open incidents for every server.
CREATE INDEX incidents_open_server ON incidents (tenant_id, server_id) WHERE resolved_at IS NULL;

-- The console's incident list pages the tenant's incidents newest first by id (ids are time-ordered):
-- read them in index order instead of sorting every incident of the tenant for each page.
CREATE INDEX incidents_tenant_id ON incidents (tenant_id, id);
