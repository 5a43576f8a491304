using System.Text;
using Medic.Contracts;
using Medic.Server.Fleet;
using Medic.Server.Incidents;

namespace Medic.Server.Ai.Patrols;

/// <summary>
/// The statistical part of a patrol, which needs no model: what changed since the last patrol (new and
/// recurring incidents, early-warning forecasts, servers gone silent, incidents waiting on people).
/// With a model it is the agent's input; without one it is the patrol's whole report.
/// </summary>
internal sealed class PatrolReview(IncidentQueries incidents, NodeStore nodes)
{
    public sealed record Review(string Text, int Findings);

    public async Task<Review> BuildAsync(string tenantId, DateTimeOffset since, DateTimeOffset now, CancellationToken ct)
    {
        var recent = (await incidents.ListAsync(tenantId, new IncidentQuery(Since: since, Limit: 500), ct)).Items;
        var open = (await incidents.ListAsync(tenantId, new IncidentQuery(Status: "active", Limit: 500), ct)).Items;
        var waiting = (await incidents.ListAsync(tenantId, new IncidentQuery(Status: "awaiting_approval", Limit: 200), ct)).Items;
        var escalated = (await incidents.ListAsync(tenantId, new IncidentQuery(Status: "escalated", Limit: 200), ct)).Items;
        var servers = await nodes.ListAsync(tenantId, ct);
        var text = new StringBuilder().Append("Patrol review of the last ").Append(Hours(now - since)).Append(" (since ").Append(since.ToString("u")).Append(")\n");
        var findings = 0;

        var fresh = recent.Where(i => i.FirstSeenAt >= since).ToList();
        text.Append("\nNew incidents: ").Append(fresh.Count).Append('\n');
        foreach (var group in fresh.GroupBy(i => (i.Type, i.Server)).OrderByDescending(g => g.Count()).Take(20))
        {
            text.Append("- ").Append(group.Key.Type).Append(" on ").Append(group.Key.Server ?? "(no server)").Append(": ").Append(group.Count()).Append('\n');
        }

        var recurring = recent.Where(i => i.Occurrences >= 3 || i.Flapping).OrderByDescending(i => i.Occurrences).Take(10).ToList();
        if (recurring.Count > 0)
        {
            text.Append("\nRecurring or flapping:\n");
            foreach (var i in recurring) text.Append("- ").Append(i.Id).Append(' ').Append(i.Type).Append(" on ").Append(i.Server ?? "-").Append(": ").Append(i.Occurrences).Append(" occurrences").Append(i.Flapping ? ", flapping" : "").Append('\n');
            findings += recurring.Count;
        }

        var forecasts = open.Concat(recent).Where(i => i.Source == IncidentSources.Patrol && i.Type.EndsWith("_forecast", StringComparison.Ordinal) && i.ResolvedAt is null)
            .DistinctBy(i => i.Id).ToList();
        if (forecasts.Count > 0)
        {
            text.Append("\nEarly warnings open (statistical forecasts):\n");
            foreach (var i in forecasts.Take(20)) text.Append("- ").Append(i.Title).Append(i.Summary is { Length: > 0 } s ? ": " + Texts.Truncate(s, 300) : "").Append('\n');
            findings += forecasts.Count;
        }

        var silent = servers.Where(s => s.StatusValue != NodeStatus.Online && !s.IsAgentless).ToList();
        if (silent.Count > 0)
        {
            text.Append("\nServers not online: ").Append(string.Join(", ", silent.Take(30).Select(s => s.Name + " (" + s.Status + ")"))).Append('\n');
            findings += silent.Count;
        }

        if (waiting.Count + escalated.Count > 0)
        {
            text.Append("\nWaiting on people: ").Append(waiting.Count).Append(" awaiting approval, ").Append(escalated.Count).Append(" escalated");
            var oldest = waiting.Concat(escalated).OrderBy(i => i.LastSeenAt).FirstOrDefault();
            if (oldest is not null) text.Append("; oldest ").Append(oldest.Id).Append(" since ").Append(oldest.LastSeenAt.ToString("u"));
            text.Append('\n');
        }

        text.Append("\nOpen incidents: ").Append(open.Count).Append(", servers: ").Append(servers.Count).Append('\n');
        return new Review(text.ToString(), findings);
    }

    private static string Hours(TimeSpan span) => span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h" : $"{span.TotalMinutes:0} min";
}
