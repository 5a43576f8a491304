using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Detection.Webhooks;

/// <summary>The tenant's mapped sources (<see cref="MappedAdapter"/>), one per name; every change audited with it.</summary>
internal sealed class WebhookMappingStore(Database db, AuditLog audit, TimeProvider time)
    : NamedDocumentStore<WebhookMapping>(db, audit, time, new("webhook_mappings", "mapping", MaxPerTenant, "webhooks.mapping", "webhook:"), MedicJson.Default.WebhookMapping),
    Incidents.ITenantSources
{
    public const int MaxPerTenant = 50;

    public async Task<bool> ExistsAsync(string tenantId, string name, CancellationToken ct) => await AdapterAsync(tenantId, name, ct) is not null;

    /// <summary>The adapter for the tenant's mapped source of that name, or null when there is none.</summary>
    public async Task<WebhookAdapter?> AdapterAsync(string tenantId, string name, CancellationToken ct)
    {
        if (!MappedAdapter.IsName(name)) return null;
        return await GetAsync(tenantId, name, ct) is { } row ? MappedAdapter.For(name, row.Value) : null;
    }
}
