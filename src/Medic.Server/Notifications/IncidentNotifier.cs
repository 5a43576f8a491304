using System.Collections.Concurrent;
using System.Data.Common;
using Medic.Contracts;
using Medic.Server.Incidents;
using Medic.Server.Storage;

namespace Medic.Server.Notifications;

/// <summary>
/// Plans the notifications of every incident change (<see cref="NotificationPlanner"/>) inside the
/// transaction that makes the change, so a change that commits has its deliveries queued as jobs in
/// the same commit: none is lost when the process dies the next instant, and none is planned twice
/// (idempotency keys). Tenants without notification rules cost nothing: the set of tenants with rules
/// is loaded at start, added to when a rule is created here, and refreshed every minute (rules created
/// through another replica).
/// </summary>
internal sealed partial class IncidentNotifier(NotificationPlanner planner, NotificationStore store, TimeProvider time, ILogger<IncidentNotifier> log)
    : IIncidentChanges, IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<string, byte> _tenants = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _refresh;

    public async Task ChangedAsync(DbConnection c, DbTransaction tx, string tenantId, string action, IncidentResponse incident)
    {
        if (_tenants.ContainsKey(tenantId)) await planner.PlanAsync(c, tx, tenantId, action, incident);
    }

    /// <summary>A rule was just added for the tenant: plan its changes from now on.</summary>
    public void Watch(string tenantId) => _tenants.TryAdd(tenantId, 0);

    /// <summary>Loads the tenants with rules before the server takes requests, so no change is missed at start.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var tenant in await store.TenantsWithRulesAsync(cancellationToken)) Watch(tenant);
        _refresh = RefreshAsync(_stopping.Token);
    }

    private async Task RefreshAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMinutes(1), time, ct);
                foreach (var tenant in await store.TenantsWithRulesAsync(ct)) Watch(tenant);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRefreshFailed(ex);
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_refresh is not null) await _refresh.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose() => _stopping.Dispose();
}
