using Medic.Contracts;
using Medic.Server.Incidents;
using Medic.Server.Storage;

namespace Medic.Server.Notifications;

/// <summary>
/// Follows the live incident feed of every tenant that has notification rules and plans each change
/// (<see cref="NotificationPlanner"/>) in a transaction of its own. The feed is in-process and published
/// after the incident's transaction commits, so a change made in the instant before this process
/// dies is not notified: see "Delivery guarantees" in docs/notifications.md.
/// </summary>
public sealed partial class NotificationDispatcher(IncidentFeed feed, NotificationStore store, NotificationPlanner planner, Database db, JobWorker worker, TimeProvider time,
    ILogger<NotificationDispatcher> log) : IHostedService, IAsyncDisposable
{
    private readonly Dictionary<string, (IncidentFeed.Subscription Subscription, Task Pump)> _watched = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _refresh;

    /// <summary>Subscribes before the server takes requests, so no change of a tenant with rules is missed at start.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var tenant in await store.TenantsWithRulesAsync(cancellationToken)) Watch(tenant);
        _refresh = RefreshAsync(_stopping.Token);
    }

    /// <summary>Starts following a tenant's incidents (a rule was just added); idempotent.</summary>
    public void Watch(string tenantId)
    {
        lock (_watched)
        {
            if (_stopping.IsCancellationRequested || _watched.ContainsKey(tenantId)) return;
            var subscription = feed.Subscribe(tenantId);
            _watched[tenantId] = (subscription, Task.Run(() => PumpAsync(tenantId, subscription, _stopping.Token)));
        }
    }

    /// <summary>Rules added through another replica: picked up within a minute.</summary>
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

    private async Task PumpAsync(string tenantId, IncidentFeed.Subscription subscription, CancellationToken ct)
    {
        try
        {
            await foreach (var change in subscription.Reader.ReadAllAsync(ct))
            {
                await PlanWithRetriesAsync(tenantId, change, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task PlanWithRetriesAsync(string tenantId, IncidentFeedMessage change, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var queued = await db.WriteAsync((c, tx) => planner.PlanAsync(c, tx, tenantId, change.Action, change.Incident), ct);
                if (queued > 0) worker.Wake();
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), time, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPlanFailed(ex, change.Incident.Id, change.Action);
                return;
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        List<Task> pumps;
        lock (_watched)
        {
            foreach (var (subscription, _) in _watched.Values) subscription.Dispose();
            pumps = [.. _watched.Values.Select(w => w.Pump)];
            _watched.Clear();
        }

        if (_refresh is not null) pumps.Add(_refresh);
        await Task.WhenAll(pumps).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Notifications for incident {IncidentId} ({Action}) could not be planned; they are not sent")]
    private partial void LogPlanFailed(Exception ex, string incidentId, string action);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the tenants with notification rules; retrying in a minute")]
    private partial void LogRefreshFailed(Exception ex);
}
