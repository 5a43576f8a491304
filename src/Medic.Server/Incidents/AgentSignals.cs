using Medic.Contracts;
using Medic.Contracts.Agent;

namespace Medic.Server.Incidents;

/// <summary>
/// Reads the incident events an agent's monitors send (<c>incident.opened</c>, <c>.updated</c>,
/// <c>.resolved</c>; data keys in docs/agent.md) as incident signals. The fingerprint is scoped to
/// the node, so two servers' "nginx" monitors are two incidents.
/// </summary>
internal static class AgentSignals
{
    public const string Opened = "incident.opened";
    public const string Updated = "incident.updated";
    public const string Resolved = "incident.resolved";

    /// <summary>
    /// The evidence key of the agent's self-healing ladder: <see cref="Healing"/> on the opened event of a
    /// monitor the agent restarts itself next, <see cref="GaveUp"/> on the update when it stops trying.
    /// </summary>
    public const string Ladder = "ladder";
    public const string Healing = "healing";
    public const string GaveUp = "gave_up";

    /// <summary>The agent is restarting the process itself: the pipeline waits for it to heal or give up.</summary>
    public static bool LadderHealing(IncidentResponse incident) =>
        incident.Source == IncidentSources.Agent && incident.Evidence?.GetValueOrDefault(Ladder) == Healing;

    /// <summary>The agent's ladder gave up: the incident is the pipeline's now.</summary>
    public static bool LadderGaveUp(IncidentSignal signal) =>
        signal.Source == IncidentSources.Agent && !signal.Resolved && signal.Evidence?.GetValueOrDefault(Ladder) == GaveUp;

    /// <summary>The signal for an incident event, or null for any other kind of event or one without a fingerprint.</summary>
    public static IncidentSignal? From(string tenantId, string nodeId, AgentEvent ev)
    {
        if (ev.Kind is not (Opened or Updated or Resolved) || ev.Data is null || !ev.Data.TryGetValue("fingerprint", out var fingerprint) || string.IsNullOrWhiteSpace(fingerprint))
        {
            return null;
        }

        var evidence = new Dictionary<string, string>(StringComparer.Ordinal);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in ev.Data)
        {
            if (key.StartsWith("evidence.", StringComparison.Ordinal)) evidence[Clip(key["evidence.".Length..], 100)] = Clip(value, 8000);
            else if (key.StartsWith("label.", StringComparison.Ordinal)) labels[Clip(key["label.".Length..], 100)] = Clip(value, 1000);
        }

        if (ev.Data.TryGetValue("monitor", out var monitor)) labels["monitor"] = Clip(monitor, 200);
        if (ev.Data.TryGetValue("monitor_kind", out var kind)) labels["monitor_kind"] = Clip(kind, 50);
        var title = Clip(ev.Data.GetValueOrDefault("title") ?? ev.Message, 500);
        return new IncidentSignal(
            tenantId, IncidentSources.Agent, Clip($"agent:{nodeId}:{fingerprint}", 500), Clip(ev.Data.GetValueOrDefault("type") ?? "monitor", 100),
            Severities.Normalize(ev.Data.GetValueOrDefault("severity")), title, evidence.GetValueOrDefault("summary"), nodeId, null,
            labels, evidence.Count > 0 ? evidence : null, ev.Kind == Resolved, ev.At, "agent:" + nodeId,
            Note: ev.Kind == Updated ? Clip(ev.Message, 2000) : null);
    }

    private static string Clip(string text, int max) => Texts.Truncate(text, max);
}
