using System.Collections.Concurrent;
using Microsoft.Extensions.AI;

namespace Medic.Server.Ai.Providers;

/// <summary>
/// Finds the model a tenant's AI work uses: <see cref="ResolveAsync"/> gives a <see cref="ChatRoute"/>
/// over the entries of a name (round-robin, an index per tenant and name kept in memory) and its fallback chain.
/// </summary>
internal sealed partial class ChatModels(AiModelStore store, ISecretReader secrets, AiBudget budget, CircuitBreakers breakers, ChatClientCache clients, ILogger<ChatModels> log)
{
    public const string DefaultName = "default";

    private readonly ConcurrentDictionary<string, int> _next = new(StringComparer.Ordinal);

    public CircuitBreakers Breakers => breakers;

    /// <summary>
    /// The route for <paramref name="modelName"/> (null: the entry named <c>default</c>, else the first by
    /// name); null when the tenant and the configuration have no such entry.
    /// </summary>
    public async Task<ChatRoute?> ResolveAsync(string tenantId, string? modelName, CancellationToken ct)
    {
        var entries = await store.ListAsync(tenantId, ct);
        if (entries.Count == 0) return null;
        var name = modelName ?? (entries.Any(e => e.Name == DefaultName) ? DefaultName : entries.Select(e => e.Name).Order(StringComparer.Ordinal).First());
        if (!entries.Any(e => e.Name == name)) return null;

        var candidates = new List<AiModelEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var current = name; current is not null && seen.Add(current);)
        {
            var group = entries.Where(e => e.Name == current).ToList();
            if (group.Count == 0) break;
            var start = (int)((uint)_next.AddOrUpdate(tenantId + "\n" + current, 0, (_, i) => unchecked(i + 1)) % (uint)group.Count);
            candidates.AddRange(group.Skip(start).Concat(group.Take(start)));
            current = group.Select(e => e.Fallback).FirstOrDefault(f => f is not null);
        }

        return new ChatRoute(tenantId, name, candidates, this);
    }

    internal async Task<IChatClient> ClientAsync(string tenantId, AiModelEntry entry, CancellationToken ct)
    {
        string? key = null;
        if (entry.KeySecret is { } secret)
        {
            key = await secrets.RevealAsync(tenantId, secret, ct)
                ?? throw new ModelConfigurationException($"model '{entry.Name}' names the secret '{secret}', which the tenant does not have; set it with: medic secrets set {secret}");
        }

        return clients.Get(tenantId, entry, key);
    }

    internal async Task RecordAsync(string tenantId, string? agent, string? runId, AiModelEntry entry, UsageDetails? usage, CancellationToken ct)
    {
        var input = usage?.InputTokenCount ?? 0;
        var output = usage?.OutputTokenCount ?? 0;
        await budget.RecordAsync(tenantId, agent, runId, entry.Name, input, output, entry.Cost(input, output), ct);
    }

    internal void LogFailover(string tenantId, AiModelEntry entry, string reason) => Failover(tenantId, entry.Name, entry.Model, entry.EffectiveBaseUrl, reason);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Tenant {TenantId}: model {Name} ({Model} at {BaseUrl}) failed ({Reason}); trying the next entry")]
    private partial void Failover(string tenantId, string name, string model, string baseUrl, string reason);
}

/// <summary>A model entry that cannot be used as configured (a missing key secret); not a provider failure, so no fallback.</summary>
internal sealed class ModelConfigurationException(string message) : Exception(message);
