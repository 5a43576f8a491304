using System.Diagnostics.Metrics;
using Dapper;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Storage;
using Microsoft.Extensions.Options;

namespace Medic.Server.Incidents;

/// <summary>
/// Unresolved incidents by tenant and state for <c>/metrics</c>: one grouped count over the open
/// incidents (the partial index on unresolved incidents), read at most once per
/// <see cref="MetricsOptions.RefreshSeconds"/> whatever the number of tenants. A tenant once seen
/// keeps its series at 0 after its last incident is resolved, so the count drops rather than vanishes.
/// </summary>
internal sealed class IncidentMetrics : IScrapeReading
{
    private static readonly string[] States = Enum.GetValues<IncidentStatus>().Where(s => s != IncidentStatus.Resolved).Select(s => s.ToText()).ToArray();

    private readonly Database _db;
    private readonly CachedReading<IReadOnlyList<StateCount>> _reading;
    private readonly HashSet<string> _tenantsSeen = new(StringComparer.Ordinal);

    public IncidentMetrics(MedicMeter meter, Database db, IOptions<MedicOptions> options, TimeProvider time)
    {
        _db = db;
        _reading = new CachedReading<IReadOnlyList<StateCount>>(ReadAsync, [], TimeSpan.FromSeconds(options.Value.Metrics.RefreshSeconds), time);
        meter.Meter.CreateObservableGauge("medic.incidents", Observe,
            description: "Unresolved incidents by tenant and state (open, triaging, ..., failed, escalated); resolved ones are not counted.");
    }

    public Task RefreshAsync(CancellationToken ct) => _reading.RefreshAsync(ct);

    private IEnumerable<Measurement<long>> Observe()
    {
        var counts = _reading.Current.ToDictionary(c => (c.TenantId, c.Status), c => c.Count);
        string[] tenants;
        lock (_tenantsSeen)
        {
            _tenantsSeen.UnionWith(counts.Keys.Select(k => k.TenantId));
            tenants = _tenantsSeen.Order(StringComparer.Ordinal).ToArray();
        }

        foreach (var tenant in tenants)
        {
            foreach (var state in States)
            {
                yield return new Measurement<long>(counts.GetValueOrDefault((tenant, state)), new("tenant_id", tenant), new("state", state));
            }
        }
    }

    private async Task<IReadOnlyList<StateCount>> ReadAsync(CancellationToken ct)
    {
        await using var c = await _db.OpenAsync(ct);
        return (await c.QueryAsync<StateCount>(new CommandDefinition(
            "SELECT tenant_id, status, COUNT(*) AS count FROM incidents WHERE resolved_at IS NULL GROUP BY tenant_id, status", cancellationToken: ct))).ToList();
    }

    private sealed class StateCount
    {
        public string TenantId { get; set; } = "";
        public string Status { get; set; } = "";
        public long Count { get; set; }
    }
}
