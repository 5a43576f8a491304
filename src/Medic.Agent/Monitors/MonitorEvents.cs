using Medic.Contracts.Agent;

namespace Medic.Agent.Monitors;

/// <summary>
/// One incident event from a monitor. <see cref="Fingerprint"/> is stable per monitor, so the
/// control plane folds every event of one monitor into one open incident.
/// </summary>
/// <param name="Type">What kind of problem: service_down, disk_full, … (see docs/agent.md).</param>
internal sealed record MonitorEvent(
    string Monitor,
    MonitorKind Kind,
    string Type,
    string Fingerprint,
    MonitorSeverity Severity,
    string Title,
    IReadOnlyDictionary<string, string> Evidence,
    IReadOnlyDictionary<string, string> Labels,
    DateTimeOffset At);

/// <summary>Where monitor incidents go: the agent's on-disk spool, or <c>medic watch</c>'s log, reports and notifications.</summary>
internal interface IMonitorEvents
{
    ValueTask OpenedAsync(MonitorEvent e, CancellationToken ct);

    ValueTask UpdatedAsync(MonitorEvent e, CancellationToken ct);

    ValueTask ResolvedAsync(MonitorEvent e, CancellationToken ct);
}

/// <summary>Evidence keys every sink understands.</summary>
internal static class EvidenceKeys
{
    /// <summary>On resolved events: healed_locally, recovered.</summary>
    public const string Resolution = "resolution";

    /// <summary>healing on the opened event of a monitor whose ladder restarts it next; gave_up on the updated event when it stops trying; retry_failed when a retry after a change did not heal it.</summary>
    public const string Ladder = "ladder";

    public const string RestartHistory = "restart_history";
    public const string Restarts = "restarts";
    public const string LastLines = "last_lines";
    public const string ExitStatus = "exit_status";
    public const string Summary = "summary";

    /// <summary>On a give-up: when the ladder tries again (retry_after, watched files).</summary>
    public const string NextRetry = "next_retry";

    public const string HealedLocally = "healed_locally";
    public const string Recovered = "recovered";
    public const string Healing = "healing";
    public const string GaveUp = "gave_up";

    /// <summary>On the updated event of a retry after giving up (a watched file changed) that did not heal it.</summary>
    public const string RetryFailed = "retry_failed";
}

/// <summary>Fans one event out to several sinks, in order.</summary>
internal sealed class CompositeMonitorEvents(params IMonitorEvents[] sinks) : IMonitorEvents
{
    public async ValueTask OpenedAsync(MonitorEvent e, CancellationToken ct)
    {
        foreach (var sink in sinks) await sink.OpenedAsync(e, ct);
    }

    public async ValueTask UpdatedAsync(MonitorEvent e, CancellationToken ct)
    {
        foreach (var sink in sinks) await sink.UpdatedAsync(e, ct);
    }

    public async ValueTask ResolvedAsync(MonitorEvent e, CancellationToken ct)
    {
        foreach (var sink in sinks) await sink.ResolvedAsync(e, ct);
    }
}

/// <summary>
/// Turns monitor events into <see cref="AgentEvent"/> frames in the on-disk spool; the daemon
/// sends them to the control plane when it can. Data keys are flat strings (docs/agent.md).
/// </summary>
internal sealed class SpoolMonitorEvents(EventSpool spool) : IMonitorEvents
{
    public const string OpenedKind = "incident.opened";
    public const string UpdatedKind = "incident.updated";
    public const string ResolvedKind = "incident.resolved";

    public ValueTask OpenedAsync(MonitorEvent e, CancellationToken ct) => Append(OpenedKind, e);

    public ValueTask UpdatedAsync(MonitorEvent e, CancellationToken ct) => Append(UpdatedKind, e);

    public ValueTask ResolvedAsync(MonitorEvent e, CancellationToken ct) => Append(ResolvedKind, e);

    private ValueTask Append(string kind, MonitorEvent e)
    {
        spool.Append(ToAgentEvent(kind, e));
        return ValueTask.CompletedTask;
    }

    public static AgentEvent ToAgentEvent(string kind, MonitorEvent e)
    {
        var data = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["fingerprint"] = e.Fingerprint,
            ["monitor"] = e.Monitor,
            ["monitor_kind"] = MonitorText.Kind(e.Kind),
            ["type"] = e.Type,
            ["severity"] = MonitorText.Severity(e.Severity),
            ["title"] = e.Title,
        };
        foreach (var (key, value) in e.Evidence) data["evidence." + key] = value;
        foreach (var (key, value) in e.Labels) data["label." + key] = value;
        return new AgentEvent(EventSpool.NewId(), e.At, kind, e.Title, data);
    }
}

internal static class MonitorText
{
    public static string Kind(MonitorKind kind) => kind switch
    {
        MonitorKind.FileAge => "file_age",
        _ => kind.ToString().ToLowerInvariant(),
    };

    public static string Severity(MonitorSeverity severity) => severity.ToString().ToLowerInvariant();

    /// <summary>The incident type the control plane files a monitor's problem under.</summary>
    public static string IncidentType(MonitorKind kind) => kind switch
    {
        MonitorKind.Process => "service_down",
        MonitorKind.Http => "http_check_failed",
        MonitorKind.Tcp => "tcp_check_failed",
        MonitorKind.Disk => "disk_full",
        MonitorKind.Memory => "memory_high",
        MonitorKind.Cpu => "cpu_high",
        MonitorKind.Load => "load_high",
        MonitorKind.Log => "log_pattern",
        MonitorKind.Tls => "certificate_expiring",
        MonitorKind.FileAge => "file_stale",
        _ => "check_failed",
    };
}
