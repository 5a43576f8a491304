using System.Collections.Concurrent;

namespace Medic.Server.Secrets;

/// <summary>
/// A version per tenant that moves whenever one of its secrets is set or deleted, so cached
/// redactions are rebuilt. In-process: with several control-plane replicas a change made on one
/// reaches the others' caches only when they restart (docs/secrets.md says so).
/// </summary>
internal sealed class SecretChanges
{
    private readonly ConcurrentDictionary<string, long> _versions = new(StringComparer.Ordinal);

    public long Version(string tenantId) => _versions.GetValueOrDefault(tenantId);

    public void Changed(string tenantId) => _versions.AddOrUpdate(tenantId, 1, (_, v) => v + 1);
}
