using System.Collections.Concurrent;

namespace Medic.Server.Secrets;

/// <summary>
/// The <see cref="Redaction"/> of each tenant: every stored secret value of the tenant, replaced by
/// <c>[secret:NAME]</c>. Built once per tenant and kept until one of its secrets changes.
/// </summary>
internal sealed class SecretRedactor(SecretStore store, SecretChanges changes)
{
    private readonly ConcurrentDictionary<string, (long Version, Redaction Redaction)> _cache = new(StringComparer.Ordinal);

    public async Task<Redaction> ForTenantAsync(string tenantId, CancellationToken ct)
    {
        // Read the version first: a change during the load leaves an entry that is already stale.
        var version = changes.Version(tenantId);
        if (_cache.TryGetValue(tenantId, out var cached) && cached.Version == version) return cached.Redaction;
        var redaction = Redaction.Of(await store.RevealAllAsync(tenantId, ct));
        _cache[tenantId] = (version, redaction);
        return redaction;
    }
}
