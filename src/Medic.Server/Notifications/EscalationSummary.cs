using System.Data.Common;
using Dapper;
using Medic.Contracts;

namespace Medic.Server.Notifications;

/// <summary>
/// What the on-call person needs from an escalation, read in the transaction that escalates: why the
/// pipeline stopped (the escalation's own timeline message), what was tried (the last remediation and
/// its outcome, the agent's restarts) and what is likely wrong (the evidence's <c>likely_cause</c>, the
/// service's last output lines). Keys: <c>reason</c>, <c>tried</c>, <c>agent_restarts</c>,
/// <c>likely_cause</c>, <c>output</c>; each at most <see cref="MaxValue"/> characters.
/// </summary>
internal static class EscalationSummary
{
    public const int MaxValue = 600;

    /// <summary>The keys in the order a message shows them, with the name it shows.</summary>
    public static readonly IReadOnlyList<(string Key, string Name)> Facts =
        [("reason", "why escalated"), ("tried", "tried"), ("agent_restarts", "agent restarts"), ("likely_cause", "likely cause"), ("output", "output")];

    private sealed class LastRemediation
    {
        public string Runbook { get; set; } = "";
        public int Version { get; set; }
        public string? ServerName { get; set; }
        public string Status { get; set; } = "";
        public string? Error { get; set; }
    }

    public static async Task<(int Round, Dictionary<string, string> Summary)> ReadAsync(DbConnection c, DbTransaction tx, string tenantId, IncidentResponse incident)
    {
        var round = await c.ExecuteScalarAsync<int>("SELECT pipeline_round FROM incidents WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id = incident.Id }, tx);
        var summary = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string key, string? value)
        {
            if (string.IsNullOrWhiteSpace(value)) return;
            var text = value.Trim();
            summary[key] = text.Length <= MaxValue ? text : text[..(MaxValue - 1)] + "…";
        }

        Add("reason", await c.QueryFirstOrDefaultAsync<string>(
            "SELECT message FROM incident_events WHERE tenant_id = @tenantId AND incident_id = @id AND kind = @kind ORDER BY seq DESC",
            new { tenantId, id = incident.Id, kind = IncidentStatus.Escalated.ToText() }, tx));
        var last = await c.QueryFirstOrDefaultAsync<LastRemediation>(
            "SELECT runbook, version, server_name, status, error FROM remediations WHERE tenant_id = @tenantId AND incident_id = @id ORDER BY round DESC, created_at DESC",
            new { tenantId, id = incident.Id }, tx);
        if (last is not null)
        {
            Add("tried", $"{last.Runbook} v{last.Version}" + (last.ServerName is null ? "" : " on " + last.ServerName) + ": " + last.Status.Replace('_', ' ')
                + (string.IsNullOrWhiteSpace(last.Error) ? "" : " (" + last.Error.Trim() + ")"));
        }

        var evidence = incident.Evidence ?? new Dictionary<string, string>();
        if (evidence.GetValueOrDefault("restarts") is { Length: > 0 } restarts)
        {
            Add("agent_restarts", restarts + (evidence.GetValueOrDefault("restart_history") is { Length: > 0 } history ? ": " + history : "")
                + (evidence.GetValueOrDefault(Incidents.AgentSignals.Ladder) == Incidents.AgentSignals.GaveUp ? "; then the agent gave up" : ""));
        }
        else if (evidence.GetValueOrDefault(Incidents.AgentSignals.Ladder) == Incidents.AgentSignals.GaveUp)
        {
            Add("agent_restarts", "the agent's restarts did not bring it back; it gave up");
        }

        Add("likely_cause", evidence.GetValueOrDefault("likely_cause"));
        Add("output", evidence.GetValueOrDefault("last_lines") ?? evidence.GetValueOrDefault("stderr"));
        return (round, summary);
    }
}
