using Medic.Agent.Monitors;
using Medic.Contracts;

namespace Medic.Agent.Watch;

/// <summary>
/// <c>medic watch</c>'s incident sink: every event goes to the log and the incident's report; people
/// are notified when the ladder gives up (always), when it heals (with <c>on_heal</c>), and when a
/// monitor that does not heal fires or resolves (with <c>on_alert</c>, the default). Notifications
/// are sent in the background so a slow chat service never delays a restart.
/// </summary>
internal sealed class WatchEvents(
    RecoveryReports reports,
    IReadOnlyList<INotifier> notifiers,
    NotifyConfig notify,
    IReadOnlySet<string> healing,
    string host,
    Action<string> log,
    WatchAiRung? ai = null) : IMonitorEvents
{
    private readonly HashSet<string> _gaveUp = new(StringComparer.Ordinal);
    private readonly List<Task> _sending = [];
    private readonly Lock _lock = new();

    public ValueTask OpenedAsync(MonitorEvent e, CancellationToken ct)
    {
        var report = reports.Record("opened", e);
        log($"incident opened: {e.Title} (report {report})");
        if (notify.OnAlert && !healing.Contains(e.Monitor)) Send("opened", e, report);
        return ValueTask.CompletedTask;
    }

    public ValueTask UpdatedAsync(MonitorEvent e, CancellationToken ct)
    {
        var gaveUp = e.Evidence.GetValueOrDefault(EvidenceKeys.Ladder) == EvidenceKeys.GaveUp;
        var report = reports.Record(gaveUp ? "gave_up" : "updated", e);
        log($"incident updated: {e.Title}");
        if (gaveUp)
        {
            lock (_lock) _gaveUp.Add(e.Monitor);

            // The give-up goes out at once; the diagnosis follows in its own notification (diagnosed) when it ends.
            var diagnosing = ai is not null && ai.Start(e, report, r => Diagnosed(e, report, r));
            Send("gave_up", diagnosing ? e with { Evidence = new Dictionary<string, string>(e.Evidence) { [WatchAiRung.UnderWayKey] = ai!.UnderWay } } : e, report);
        }
        else if (notify.OnAlert && !healing.Contains(e.Monitor))
        {
            Send("updated", e, report);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ResolvedAsync(MonitorEvent e, CancellationToken ct)
    {
        var report = reports.Record("resolved", e);
        log($"incident resolved: {e.Title} (report {report})");
        bool hadGivenUp;
        lock (_lock) hadGivenUp = _gaveUp.Remove(e.Monitor);
        var healed = e.Evidence.GetValueOrDefault(EvidenceKeys.Resolution) == EvidenceKeys.HealedLocally;
        if ((healed && notify.OnHeal) || hadGivenUp || (notify.OnAlert && !healing.Contains(e.Monitor)))
        {
            Send(healed ? "healed" : "resolved", e, report);
        }

        return ValueTask.CompletedTask;
    }

    private void Diagnosed(MonitorEvent e, string report, WatchAiRecord record)
    {
        reports.Annotate(e.Fingerprint, report, WatchAiRung.SectionTitle, record.Markdown);
        log($"incident diagnosed: {record.Title} (report {report})");
        Send("diagnosed", e with { Title = record.Title, Evidence = record.Evidence }, report);
    }

    private void Send(string kind, MonitorEvent e, string report)
    {
        var n = new Notification(kind, host, e.Monitor, MonitorText.Kind(e.Kind), MonitorText.Severity(e.Severity), e.Title, e.Fingerprint, e.At, e.Evidence, e.Labels, report);
        foreach (var notifier in notifiers)
        {
            var task = SendOneAsync(notifier, n);
            lock (_lock)
            {
                _sending.RemoveAll(t => t.IsCompleted);
                _sending.Add(task);
            }
        }
    }

    private async Task SendOneAsync(INotifier notifier, Notification n)
    {
        try
        {
            await notifier.SendAsync(n, CancellationToken.None);
            log($"notified {notifier.Name}: {n.Event}: {n.Monitor}");
        }
        catch (NotifyException e)
        {
            log($"could not notify {notifier.Name} ({n.Event}: {n.Monitor}): {e.Message}");
        }
    }

    /// <summary>Waits (bounded) for notifications still being sent, at shutdown.</summary>
    public async Task FlushAsync(TimeSpan limit)
    {
        Task[] pending;
        lock (_lock) pending = [.. _sending];
        await Task.WhenAny(Task.WhenAll(pending), Task.Delay(limit));
    }
}
