using System.Globalization;
using System.Text;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Incidents;
using Medic.Server.Notifications;
using Medic.Server.Pipeline;
using Medic.Server.Runbooks;

namespace Medic.Server.Reports;

/// <summary>
/// Builds an incident's report from what is stored: the incident record, the pipeline's
/// remediations and approvals, the runbook runs with their step output, and the audit chain's
/// entries about the incident, its approvals and its runs. Nothing is stored for a report; the
/// same question asked later gets the same answer plus whatever happened since. The narrative, when
/// an AI agent holds the report role, is its run's output (<see cref="IReportNarrator"/>).
/// </summary>
internal sealed class IncidentReports(IncidentQueries incidents, PipelineStore pipeline, RunbookRunner runs, AuditLog audit, ConsoleLinks links, IReportNarrator narrator, TimeProvider time)
{
    /// <summary>A flapping incident can gather many entries; the report lists this many and says when there were more.</summary>
    public const int AuditLimit = 2000;

    /// <summary>
    /// How far before the incident's first signal the audit chain is read. A source's clock may run
    /// ahead of the control plane's (agent events carry the agent's time), so the entries Medic wrote
    /// may carry an earlier time than <c>first_seen_at</c>.
    /// </summary>
    private static readonly TimeSpan ClockSlack = TimeSpan.FromDays(1);

    /// <summary>Before this, a start time is an unset one (Go's zero time, year 1), not a real start.</summary>
    private static readonly DateTimeOffset Plausible = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The report, or null when the tenant has no such incident.</summary>
    public async Task<IncidentReport?> BuildAsync(string tenantId, string id, CancellationToken ct)
    {
        var detail = await incidents.GetAsync(tenantId, id, ct);
        if (detail is null) return null;
        var incident = detail.Incident;
        var approvals = await pipeline.ApprovalsAsync(tenantId, null, incident.Id, 1000, ct);
        var remediations = new List<ReportRemediation>();
        var targets = new List<string> { "incident:" + incident.Id };
        foreach (var r in await pipeline.RemediationsAsync(tenantId, incident.Id, ct))
        {
            var asked = approvals.Where(a => a.RemediationId == r.Id).OrderBy(a => a.CreatedAt).ThenBy(a => a.Id, StringComparer.Ordinal)
                .Select(a => new ReportApproval(a.Id, a.Status, a.RequestedBy, a.Reason, a.CreatedAt, a.ExpiresAt, a.DecidedBy, a.DecidedAt, a.Comment)).ToList();
            var run = r.RunId is null ? null : await runs.GetAsync(tenantId, r.RunId, ct);
            targets.AddRange(asked.Select(a => "approval:" + a.Id));
            if (run is not null) targets.Add("runbook_run:" + run.Id);
            remediations.Add(new ReportRemediation(r.ToResponse(), asked, run));
        }

        var earliest = detail.Timeline.Count > 0 && detail.Timeline[0].At < incident.FirstSeenAt ? detail.Timeline[0].At : incident.FirstSeenAt;
        var entries = await audit.ForTargetsAsync(AuditLog.ChainOf(tenantId), targets, (earliest - ClockSlack).ToUniversalTime(), AuditLimit + 1, ct);
        var audited = entries.Take(AuditLimit).Select(e => new ReportAuditEntry(e.Seq, e.Id, e.At, e.Actor, e.Action, e.Target, e.Outcome, e.Details, e.Hash)).ToList();

        var report = new IncidentReport(incident, detail.Occurrences, detail.Timeline, EvidenceOf(incident, detail.Timeline), remediations, audited, entries.Count > AuditLimit,
            OutcomeOf(incident, detail.Timeline), Measure(incident, detail.Timeline), links.Incident(incident.Id), time.GetUtcNow());
        // An AI agent holding the report role writes the narrative from the record; without one the report is the record alone.
        return await narrator.NarrateAsync(tenantId, report, ct) is { } narrative ? report with { Narrative = narrative } : report;
    }

    /// <summary>The timeline events that came with a detection source's evidence, and the incident's latest evidence when no event carries it.</summary>
    internal static IReadOnlyList<ReportEvidence> EvidenceOf(IncidentResponse incident, IReadOnlyList<IncidentEventResponse> timeline)
    {
        var list = timeline
            .Where(e => e.Data is { Count: > 0 } && e.Kind is "opened" or "update" or "reopened" or "resolved" && e.Actor != RemediationPipeline.SystemActor)
            .Select(e => new ReportEvidence(e.Kind, e.At, e.Actor, e.Data!))
            .ToList();
        if (incident.Evidence is { Count: > 0 } latest && !list.Any(e => Same(e.Data, latest))) list.Add(new ReportEvidence("latest", null, null, latest));
        return list;
    }

    private static bool Same(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    /// <summary>How it ended, from its status and the timeline event that put it there.</summary>
    internal static ReportOutcome OutcomeOf(IncidentResponse incident, IReadOnlyList<IncidentEventResponse> timeline)
    {
        if (incident.Status == IncidentStatus.Resolved)
        {
            var resolved = timeline.LastOrDefault(e => e.Kind == "resolved");
            var by = resolved?.Actor switch
            {
                RemediationPipeline.SystemActor => "remediation",
                { } actor when actor.StartsWith("user:", StringComparison.Ordinal) => "person",
                _ => "source",
            };
            return new ReportOutcome("resolved", by, incident.Resolution ?? resolved?.Message ?? "resolved", resolved?.Actor, incident.ResolvedAt, true);
        }

        if (incident.Status == IncidentStatus.Escalated)
        {
            var escalated = timeline.LastOrDefault(e => e.Kind == "escalated");
            return new ReportOutcome("escalated", null, escalated?.Message ?? "escalated: a person takes over", escalated?.Actor, escalated?.At, false);
        }

        return new ReportOutcome("open", null, $"still open: the incident is {incident.Status.ToText().Replace('_', ' ')}", null, null, false);
    }

    /// <summary>The durations as <see cref="ReportDurations"/> defines them.</summary>
    internal static ReportDurations Measure(IncidentResponse incident, IReadOnlyList<IncidentEventResponse> timeline)
    {
        var detected = incident.FirstSeenAt;
        var opened = timeline.FirstOrDefault(e => e.Kind == "opened");
        var (start, key) = StartOf(incident.Source, opened?.Data);
        if (start is null) (start, key) = StartOf(incident.Source, incident.Evidence);
        string basis;
        double? toDetect = null;
        if (start is { } s)
        {
            if (s <= detected)
            {
                toDetect = Seconds(detected - s);
                basis = $"from the source's {key} to when Medic opened the incident";
            }
            else
            {
                basis = $"unknown: the source's {key} ({s.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC) is later than when Medic opened the incident; the clocks disagree";
            }
        }
        else
        {
            basis = incident.Source switch
            {
                IncidentSources.Manual => "unknown: a person opened it by hand, with no start time",
                IncidentSources.Agent => "unknown: the agent's monitor reports the moment it noticed, with no earlier start",
                IncidentSources.Check => "unknown: the check reports when its failures reached the threshold, with no earlier start",
                IncidentSources.Patrol => "unknown: a patrol's warning is a forecast, with no start",
                _ => $"unknown: {incident.Source} gave no start time",
            };
        }

        return new ReportDurations(start, detected, incident.AcknowledgedAt, incident.ResolvedAt, toDetect,
            incident.AcknowledgedAt is { } ack ? Seconds(ack - detected) : null,
            incident.ResolvedAt is { } res ? Seconds(res - detected) : null,
            basis);
    }

    /// <summary>When the source says the problem started: an alert's starts_at, PagerDuty's occurred_at, Datadog's event date.</summary>
    private static (DateTimeOffset? Start, string? Key) StartOf(string source, IReadOnlyDictionary<string, string>? evidence)
    {
        if (evidence is null) return (null, null);
        var key = source switch
        {
            IncidentSources.PagerDuty => "occurred_at",
            IncidentSources.Datadog => "date",
            _ when IncidentSources.Webhook.Contains(source) => "starts_at",
            _ => null,
        };
        if (key is null || !evidence.TryGetValue(key, out var text)) return (null, null);
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) && at >= Plausible
            ? (at, key)
            : (null, null);
    }

    private static double Seconds(TimeSpan span) => Math.Round(span.TotalSeconds, 3);
}
