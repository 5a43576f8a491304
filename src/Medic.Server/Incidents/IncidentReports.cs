using System.Globalization;
using System.Text;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Notifications;
using Medic.Server.Pipeline;
using Medic.Server.Runbooks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Medic.Server.Incidents;

/// <summary><c>GET /api/v1/incidents/{id}/report</c>: an incident's report as JSON, or as Markdown with <c>?format=markdown</c> or <c>Accept: text/markdown</c>.</summary>
public static class IncidentReportsApi
{
    public const string MarkdownType = "text/markdown";

    public static IEndpointRouteBuilder MapIncidentReports(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/incidents").WithTags("Incidents")
            .MapGet("/{id}/report", Get).Requires(Permission.Read)
            .Produces<string>(StatusCodes.Status200OK, MarkdownType)
            .WithSummary("The incident's report: timeline, evidence, what ran and its output, approvals, audit entries, outcome and durations. " +
                "JSON by default; format=markdown (or Accept: text/markdown) for Markdown.");
        return app;
    }

    private static async Task<Results<Ok<IncidentReport>, ContentHttpResult, ProblemHttpResult>> Get(
        string id, string? format, IncidentReports reports, HttpContext http, CancellationToken ct)
    {
        bool markdown;
        switch (format?.Trim().ToLowerInvariant())
        {
            case null or "":
                markdown = PrefersMarkdown(http.Request.Headers.Accept);
                break;
            case "json":
                markdown = false;
                break;
            case "markdown" or "md":
                markdown = true;
                break;
            default:
                return Problems.Invalid($"format '{(format!.Length > 40 ? format[..40] + "…" : format)}' is not one of json, markdown.",
                    "leave format out (or format=json) for JSON, or use format=markdown (or the header Accept: text/markdown) for Markdown");
        }

        var report = await reports.BuildAsync(http.Caller().TenantId, id, ct);
        if (report is null) return Problems.NotFound("incident", id, "medic incidents list");
        return markdown ? TypedResults.Text(IncidentReportMarkdown.Render(report), MarkdownType + "; charset=utf-8") : TypedResults.Ok(report);
    }

    /// <summary>Markdown when the client ranks text/markdown above JSON (or names only it); JSON otherwise, and for an Accept header that does not parse.</summary>
    internal static bool PrefersMarkdown(IList<string>? accept)
    {
        if (accept is null || accept.Count == 0 || !MediaTypeHeaderValue.TryParseList(accept, out var types)) return false;
        foreach (var type in types.Where(t => t.Quality is not 0.0).OrderByDescending(t => t.Quality ?? 1))
        {
            if (type.MediaType.Equals(MarkdownType, StringComparison.OrdinalIgnoreCase)) return true;
            if (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.MatchesAllTypes || type.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase)) return false;
        }

        return false;
    }
}

/// <summary>
/// Builds an incident's report from what is stored: the incident record, the pipeline's
/// remediations and approvals, the runbook runs with their step output, and the audit chain's
/// entries about the incident, its approvals and its runs. Nothing is stored for a report; the
/// same question asked later gets the same answer plus whatever happened since.
/// </summary>
internal sealed class IncidentReports(IncidentStore incidents, PipelineStore pipeline, RunbookRunner runs, AuditLog audit, ConsoleLinks links, TimeProvider time)
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

        return new IncidentReport(incident, detail.Occurrences, detail.Timeline, EvidenceOf(incident, detail.Timeline), remediations, audited, entries.Count > AuditLimit,
            OutcomeOf(incident, detail.Timeline), Measure(incident, detail.Timeline), links.Incident(incident.Id), time.GetUtcNow());
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
        if (incident.Status == IncidentStatus.Resolved.Name())
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

        if (incident.Status == IncidentStatus.Escalated.Name())
        {
            var escalated = timeline.LastOrDefault(e => e.Kind == "escalated");
            return new ReportOutcome("escalated", null, escalated?.Message ?? "escalated: a person takes over", escalated?.Actor, escalated?.At, false);
        }

        return new ReportOutcome("open", null, $"still open: the incident is {incident.Status.Replace('_', ' ')}", null, null, false);
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

/// <summary>
/// Renders a report as Markdown that reads as written: every text that came from outside (titles,
/// messages, evidence, output) is escaped where it sits in a line, and output goes in fenced code
/// blocks whose fence is longer than any run of backticks inside, so nothing in it can end the block,
/// start a heading, make a link or smuggle HTML. Long output is cut, saying so.
/// </summary>
internal static class IncidentReportMarkdown
{
    /// <summary>At most this many characters of one output or evidence value; the JSON report has all that is stored.</summary>
    public const int OutputCap = 4000;

    private const int CellCap = 500;

    public static string Render(IncidentReport report)
    {
        var i = report.Incident;
        var md = new StringBuilder(8192);
        md.Append("# Incident report: ").Append(Inline(i.Title, 300)).Append("\n\n");
        if (!report.Outcome.Final)
        {
            md.Append("> **Not final.** The incident is ").Append(Inline(i.Status.Replace('_', ' ')))
                .Append(": this report shows what has happened so far.\n\n");
        }

        Table(md, ["", ""],
        [
            ["Incident", Code(i.Id)],
            ["Status", Inline(i.Status.Replace('_', ' ')) + (i.Flapping ? " (flapping)" : "")],
            ["Severity", Inline(i.Severity)],
            ["Source", $"{Inline(i.Source)} ({Inline(i.Type)})"],
            ["Server", i.Server is null ? "-" : Inline(i.Server)],
            ["Fingerprint", Inline(i.Fingerprint)],
            ["Labels", i.Labels.Count == 0 ? "-" : Inline(string.Join(", ", i.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)))],
            ["Signals", $"{i.SignalCount} (occurrences: {i.Occurrences}, firing: {i.Firing})"],
            ["First seen", Time(i.FirstSeenAt)],
            ["Last seen", Time(i.LastSeenAt)],
            ["Acknowledged", i.AcknowledgedAt is null ? "no" : $"{Time(i.AcknowledgedAt)} by {Inline(i.AcknowledgedBy)}"],
            ["Resolved", i.ResolvedAt is null ? "no" : Time(i.ResolvedAt)],
        ]);
        if (!string.IsNullOrWhiteSpace(i.Summary)) md.Append("**Summary:** ").Append(Inline(i.Summary, 2000)).Append("\n\n");

        Outcome(md, report.Outcome);
        Durations(md, report.Durations);
        Evidence(md, report.Evidence);

        md.Append("## Timeline\n\n");
        Table(md, ["Time (UTC)", "Event", "By", "Detail"],
            report.Timeline.Select(e => (IReadOnlyList<string>)[Time(e.At), Inline(e.Kind), Inline(e.Actor), Inline(e.Message, CellCap)]));

        if (report.Occurrences.Count > 1)
        {
            md.Append("## Occurrences\n\n");
            Table(md, ["Occurrence", "Firing", "Signals", "First seen (UTC)", "Last seen (UTC)"],
                report.Occurrences.Select(o => (IReadOnlyList<string>)[Inline(o.Occurrence), o.Firing ? "yes" : "no", Num(o.SignalCount), Time(o.FirstSeenAt), Time(o.LastSeenAt)]));
        }

        md.Append("## Remediations\n\n");
        if (report.Remediations.Count == 0) md.Append("None was proposed.\n\n");
        foreach (var r in report.Remediations) Remediation(md, r, i.Id);

        md.Append("## Audit log\n\n");
        Table(md, ["Seq", "Time (UTC)", "Actor", "Action", "Target", "Outcome", "Details"],
            report.Audit.Select(a => (IReadOnlyList<string>)[Num(a.Seq), Time(a.At), Inline(a.Actor), Inline(a.Action), Inline(a.Target), Inline(a.Outcome),
                Inline(string.Join("; ", a.Details.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => d.Key + "=" + d.Value)), CellCap)]));
        if (report.AuditTruncated)
        {
            md.Append($"Only the first {IncidentReports.AuditLimit} entries are listed; the audit log (`medic audit list`) has them all.\n\n");
        }

        md.Append("---\n\nGenerated by Medic at ").Append(Time(report.GeneratedAt)).Append(" UTC. Console: ").Append(Link(report.Link)).Append('\n');
        return md.ToString();
    }

    private static void Outcome(StringBuilder md, ReportOutcome o)
    {
        md.Append("## Outcome\n\n");
        var what = o.Status switch
        {
            "resolved" => o.ResolvedBy switch
            {
                "remediation" => "Resolved by a remediation",
                "person" => "Resolved by a person",
                _ => "Resolved by its source",
            },
            "escalated" => "Escalated to a person",
            _ => "Still open",
        };
        md.Append("**").Append(what).Append(".** ").Append(Inline(o.Summary, 2000));
        if (o.Actor is not null || o.At is not null)
        {
            md.Append(" (").Append(o.Actor is null ? "" : Inline(o.Actor)).Append(o.Actor is not null && o.At is not null ? ", " : "").Append(o.At is null ? "" : Time(o.At) + " UTC").Append(')');
        }

        md.Append("\n\n");
    }

    private static void Durations(StringBuilder md, ReportDurations d)
    {
        md.Append("## Durations\n\n");
        Table(md, ["Measure", "Time", "From", "To"],
        [
            ["Time to detect", d.TimeToDetectSeconds is { } t ? Human(t) : Inline(d.DetectionBasis), d.ProblemStartedAt is null ? "-" : Time(d.ProblemStartedAt) + " (problem started)", Time(d.DetectedAt) + " (opened)"],
            ["Time to acknowledge", d.TimeToAcknowledgeSeconds is { } a ? Human(a) : "not acknowledged", Time(d.DetectedAt), d.AcknowledgedAt is null ? "-" : Time(d.AcknowledgedAt)],
            ["Time to resolve", d.TimeToResolveSeconds is { } r ? Human(r) : "not resolved", Time(d.DetectedAt), d.ResolvedAt is null ? "-" : Time(d.ResolvedAt)],
        ]);
        if (d.TimeToDetectSeconds is not null) md.Append("Time to detect: ").Append(Inline(d.DetectionBasis)).Append(".\n\n");
    }

    private static void Evidence(StringBuilder md, IReadOnlyList<ReportEvidence> evidence)
    {
        md.Append("## Evidence\n\n");
        if (evidence.Count == 0) md.Append("The sources sent none.\n\n");
        foreach (var e in evidence)
        {
            md.Append("### ").Append(e.Kind == "latest" ? "Latest" : Inline(e.Kind));
            if (e.Actor is not null) md.Append(", from ").Append(Inline(e.Actor));
            if (e.At is not null) md.Append(", ").Append(Time(e.At)).Append(" UTC");
            md.Append("\n\n");
            var (brief, lengthy) = Split(e.Data);
            foreach (var (key, value) in brief) md.Append("- **").Append(Inline(key, 100)).Append("**: ").Append(Inline(value)).Append('\n');
            if (brief.Count > 0) md.Append('\n');
            foreach (var (key, value) in lengthy)
            {
                md.Append("**").Append(Inline(key, 100)).Append("**:\n\n");
                CodeBlock(md, value, "the JSON report has the whole value");
            }
        }
    }

    /// <summary>Values that fit on a line go in a list; longer or multi-line ones in code blocks.</summary>
    private static (List<KeyValuePair<string, string>> Short, List<KeyValuePair<string, string>> Long) Split(IReadOnlyDictionary<string, string> data)
    {
        var sorted = data.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        static bool Long(string v) => v.Length > 200 || v.Contains('\n', StringComparison.Ordinal) || v.Contains('\r', StringComparison.Ordinal);
        return (sorted.Where(kv => !Long(kv.Value)).ToList(), sorted.Where(kv => Long(kv.Value)).ToList());
    }

    private static void Remediation(StringBuilder md, ReportRemediation item, string incidentId)
    {
        var r = item.Remediation;
        md.Append($"### Round {Num(r.Round)}: ").Append(Inline(r.Runbook)).Append($" v{Num(r.Version)}, ").Append(Inline(r.Risk)).Append(" risk, on ")
            .Append(r.Server is null ? "no server" : Inline(r.Server)).Append(": ").Append(Inline(r.Status.Replace('_', ' '))).Append("\n\n");
        Table(md, ["", ""],
        [
            ["Remediation", Code(r.Id)],
            ["Proposed", $"{Time(r.CreatedAt)} by {Inline(r.ProposedBy)} ({Inline(r.Trust)} trust)"],
            ["Risk gate", $"{Inline(r.Gate.Replace('_', ' '))}: {Inline(r.GateReason, CellCap)}"],
            ["Parameters", r.Params.Count == 0 ? "-" : Inline(string.Join(", ", r.Params.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value)), CellCap)],
            ["Status", Inline(r.Status.Replace('_', ' ')) + (r.FinishedAt is null ? "" : $", finished {Time(r.FinishedAt)}")],
            ["Error", r.Error is null ? "-" : Inline(r.Error, CellCap)],
            ["Verification", r.Verification is null ? "-" : Inline(r.Verification, CellCap)],
        ]);

        md.Append("#### Approvals\n\n");
        if (item.Approvals.Count == 0) md.Append(r.Gate == "auto_run" ? "None needed: the risk gate let it run.\n\n" : "None.\n\n");
        else
        {
            Table(md, ["Approval", "Status", "Requested by", "Requested (UTC)", "Reason", "Decided by", "Decided (UTC)", "Comment"],
                item.Approvals.Select(a => (IReadOnlyList<string>)[Code(a.Id), Inline(a.Status), Inline(a.RequestedBy), Time(a.CreatedAt), Inline(a.Reason, CellCap),
                    a.DecidedBy is null ? "-" : Inline(a.DecidedBy), a.DecidedAt is null ? "-" : Time(a.DecidedAt), a.Comment is null ? "-" : Inline(a.Comment, CellCap)]));
        }

        if (item.Run is not { } run)
        {
            md.Append("#### Run\n\nIt did not run.\n\n");
            return;
        }

        md.Append("#### Run ").Append(Code(run.Id)).Append(": ").Append(Inline(run.Status)).Append("\n\n");
        md.Append("Run by ").Append(Inline(run.Actor)).Append(" on ").Append(Inline(string.Join(", ", run.Targets))).Append(", started ").Append(Time(run.CreatedAt)).Append(" UTC");
        if (run.FinishedAt is not null) md.Append(", finished ").Append(Time(run.FinishedAt)).Append(" UTC");
        md.Append('.');
        if (run.Error is not null) md.Append(" Error: ").Append(Inline(run.Error, 2000));
        md.Append("\n\n");
        if (run.Steps.Count == 0) md.Append("No step ran.\n\n");
        foreach (var s in run.Steps)
        {
            md.Append($"**Step {Num(s.Step)}: ").Append(Inline(s.Name)).Append("** (").Append(Inline(s.Type)).Append(s.Phase == "main" ? "" : ", " + Inline(s.Phase))
                .Append(") on ").Append(Inline(s.Server)).Append(": **").Append(Inline(s.Status)).Append("**");
            if (s.ExitCode is { } exit) md.Append(", exit ").Append(Num(exit));
            md.Append(", ").Append(Human(s.DurationMs / 1000.0));
            if (s.Reason is not null) md.Append(". ").Append(Inline(s.Reason, 2000));
            md.Append("\n\n");
            var cut = $"the JSON report (medic incidents report {incidentId} --json) has all that was kept";
            if (s.Stdout.Length > 0)
            {
                md.Append("stdout").Append(s.Truncated ? " (the end of it: the start was cut when it ran)" : "").Append(":\n\n");
                CodeBlock(md, s.Stdout, cut);
            }

            if (s.Stderr.Length > 0)
            {
                md.Append("stderr:\n\n");
                CodeBlock(md, s.Stderr, cut);
            }
        }
    }

    private static void Table(StringBuilder md, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        md.Append('|');
        foreach (var h in headers) md.Append(' ').Append(h).Append(" |");
        md.Append("\n|");
        foreach (var _ in headers) md.Append(" --- |");
        md.Append('\n');
        var any = false;
        foreach (var row in rows)
        {
            any = true;
            md.Append('|');
            foreach (var cell in row) md.Append(' ').Append(cell.Length == 0 ? " " : cell).Append(" |");
            md.Append('\n');
        }

        if (!any)
        {
            md.Append('|');
            foreach (var _ in headers) md.Append(" - |");
            md.Append('\n');
        }

        md.Append('\n');
    }

    /// <summary>
    /// Text for inside a line or a table cell: on one line, cut to <paramref name="max"/>, control
    /// characters shown as \xNN, and the characters Markdown or HTML would read escaped.
    /// </summary>
    internal static string Inline(string? text, int max = 300)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var cut = text.Length > max;
        var sb = new StringBuilder(Math.Min(text.Length, max) + 16);
        foreach (var ch in cut ? text.AsSpan(0, max) : text.AsSpan())
        {
            switch (ch)
            {
                case '\r' or '\n' or '\t':
                    sb.Append(' ');
                    break;
                case '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|' or '~' or '&' or '#' or '$':
                    sb.Append('\\').Append(ch);
                    break;
                default:
                    AppendVisible(sb, ch);
                    break;
            }
        }

        if (cut) sb.Append('…');
        return sb.ToString();
    }

    /// <summary>An id Medic made (letters, digits, _ and -) as inline code; anything else as escaped text.</summary>
    private static string Code(string text) =>
        text.Length is > 0 and <= 100 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') ? "`" + text + "`" : Inline(text);

    private static string Link(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && url.All(c => c > ' ' && c < 0x7f && c is not ('<' or '>'))
            ? "<" + url + ">"
            : Inline(url);

    /// <summary>
    /// A fenced code block nothing inside can close: the fence is one backtick longer than the
    /// longest run of backticks in the text. Line ends are normalised, control characters (terminal
    /// escapes included) shown as \xNN, and the text cut at <see cref="OutputCap"/>, saying where the rest is.
    /// </summary>
    internal static void CodeBlock(StringBuilder md, string text, string whereTheRestIs)
    {
        var body = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        var more = body.Length - OutputCap;
        if (more > 0) body = body[..OutputCap];
        var clean = new StringBuilder(body.Length + 16);
        foreach (var ch in body)
        {
            if (ch is '\n' or '\t') clean.Append(ch);
            else AppendVisible(clean, ch);
        }

        var longest = 0;
        var run = 0;
        for (var k = 0; k < clean.Length; k++)
        {
            run = clean[k] == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        var fence = new string('`', Math.Max(3, longest + 1));
        md.Append(fence).Append("text\n").Append(clean);
        if (clean.Length == 0 || clean[^1] != '\n') md.Append('\n');
        md.Append(fence).Append("\n\n");
        if (more > 0) md.Append($"… {Num(more)} more characters cut here; {whereTheRestIs}.\n\n");
    }

    /// <summary>Control characters and the bidirectional overrides (which reorder what a reader sees) as \xNN or \uNNNN.</summary>
    private static void AppendVisible(StringBuilder sb, char ch)
    {
        if (char.IsControl(ch)) sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)ch:x2}");
        else if (ch is (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069')) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)ch:x4}");
        else sb.Append(ch);
    }

    private static string Time(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>A duration as a person reads it: 850 ms, 42 s, 3 min 12 s, 2 h 5 min, 3 d 4 h.</summary>
    internal static string Human(double seconds)
    {
        var span = TimeSpan.FromSeconds(Math.Max(0, seconds));
        if (span.TotalSeconds < 1) return Num((long)span.TotalMilliseconds) + " ms";
        if (span.TotalMinutes < 1) return Num((long)span.TotalSeconds) + " s";
        if (span.TotalHours < 1) return $"{Num((long)span.TotalMinutes)} min {Num(span.Seconds)} s";
        if (span.TotalDays < 1) return $"{Num((long)span.TotalHours)} h {Num(span.Minutes)} min";
        return $"{Num((long)span.TotalDays)} d {Num(span.Hours)} h";
    }
}
