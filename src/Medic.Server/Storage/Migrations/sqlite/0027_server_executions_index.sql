-- A server's page in the console lists the latest commands run on it (Executions.ForServerAsync):
-- read them by (tenant, server) newest first instead of scanning every result of the tenant.
CREATE INDEX execution_results_server ON execution_results (tenant_id, server, finished_at);
