using System.CommandLine;
using System.Net.WebSockets;
using System.Text.Json;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>medic incidents list/show/create/ack/resolve/report/watch</c>.</summary>
internal static class IncidentCommands
{
    public static Command Incidents()
    {
        var status = new Option<string?>("--status") { Description = "active (every unresolved incident), open, resolved, escalated, ..." }
            .OneOf(StateText.All<IncidentStatus>().Prepend("active"));
        var severity = new Option<string?>("--severity") { Description = "critical, warning or info" }.OneOf(["critical", "warning", "info"]);
        var server = new Option<string?>("--server") { Description = "Server name or id" };
        var source = new Option<string?>("--source") { Description = "agent, alertmanager, grafana, datadog, pagerduty, zabbix, uptimekuma, generic (or a mapped source), check, patrol or manual; the server checks it" };
        var since = new Option<string?>("--since") { Description = "Seen since a time (2026-11-21T10:00:00Z) or a duration ago (24h)" };
        var limit = new Option<int?>("--limit") { Description = "At most this many (1-500, default 50)" };
        var before = new Option<string?>("--before") { Description = "Older than this incident id (the next page)" };
        var json = Shared.JsonOption();
        var list = new Command("list", "List incidents, newest first") { status, severity, server, source, since, limit, before, json };
        list.SetAction(async (parse, ct) =>
        {
            var query = new List<string>();
            void Add(string name, string? value)
            {
                if (!string.IsNullOrEmpty(value)) query.Add(name + "=" + Uri.EscapeDataString(value));
            }

            Add("status", parse.GetValue(status));
            Add("severity", parse.GetValue(severity));
            Add("server", parse.GetValue(server));
            Add("source", parse.GetValue(source));
            Add("since", parse.GetValue(since));
            Add("limit", parse.GetValue(limit)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Add("before", parse.GetValue(before));
            using var client = Shared.RequireSession(parse).Client();
            var page = await client.GetAsync("/api/v1/incidents" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), ApiClient.Json.IncidentPage, ct);
            if (parse.GetValue(json))
            {
                Output.Json(page, ApiClient.Json.IncidentPage);
                return ExitCodes.Ok;
            }

            Output.Table(["ID", "STATUS", "SEVERITY", "SERVER", "SOURCE", "TITLE", "SEEN", "LAST SEEN"], page.Items.Select(i => (IReadOnlyList<string?>)
            [
                i.Id, i.Status.ToText() + (i.Flapping ? " (flapping)" : ""), i.Severity, i.Server ?? "-", i.Source, Shorten(i.Title, 60),
                i.Occurrences > 1 ? $"{i.SignalCount}x, {i.Firing}/{i.Occurrences} firing" : i.SignalCount + "x", Output.Time(i.LastSeenAt),
            ]));
            if (page.NextBefore is not null) Console.Out.WriteLine($"More: medic incidents list --before {page.NextBefore}");
            return ExitCodes.Ok;
        });

        var showId = new Argument<string>("id") { Description = "Incident id (inc_…)" };
        var showJson = Shared.JsonOption();
        var show = new Command("show", "Show an incident with its occurrences and timeline") { showId, showJson };
        show.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var d = await client.GetAsync("/api/v1/incidents/" + Shared.Escape(parse.GetValue(showId)!), ApiClient.Json.IncidentDetailResponse, ct);
            if (parse.GetValue(showJson))
            {
                Output.Json(d, ApiClient.Json.IncidentDetailResponse);
                return ExitCodes.Ok;
            }

            var i = d.Incident;
            Console.Out.WriteLine($"{i.Id}: {i.Title}");
            Console.Out.WriteLine($"status:      {i.Status.ToText()}{(i.Flapping ? " (flapping)" : "")}{(i.Resolution is null ? "" : " - " + i.Resolution)}");
            Console.Out.WriteLine($"severity:    {i.Severity}");
            Console.Out.WriteLine($"source:      {i.Source} ({i.Type}), fingerprint {i.Fingerprint}");
            Console.Out.WriteLine($"server:      {i.Server ?? "-"}");
            Console.Out.WriteLine($"seen:        {i.SignalCount} time(s), first {Output.Time(i.FirstSeenAt)} UTC, last {Output.Time(i.LastSeenAt)} UTC");
            if (i.AcknowledgedBy is not null) Console.Out.WriteLine($"acknowledged: by {i.AcknowledgedBy} at {Output.Time(i.AcknowledgedAt)} UTC");
            if (i.Summary is not null) Console.Out.WriteLine($"summary:     {i.Summary}");
            if (i.Labels.Count > 0) Console.Out.WriteLine($"labels:      {FleetCommands.FormatTags(i.Labels)}");
            foreach (var (key, value) in i.Evidence ?? new Dictionary<string, string>()) Console.Out.WriteLine($"evidence:    {key}: {value}");
            if (d.Occurrences.Count > 1)
            {
                Console.Out.WriteLine();
                Output.Table(["OCCURRENCE", "FIRING", "SEEN", "LAST SEEN"], d.Occurrences.Select(o => (IReadOnlyList<string?>)
                    [o.Occurrence, o.Firing ? "yes" : "no", o.SignalCount + "x", Output.Time(o.LastSeenAt)]));
            }

            Console.Out.WriteLine();
            Output.Table(["TIME", "EVENT", "BY", "DETAIL"], d.Timeline.Select(e => (IReadOnlyList<string?>)[Output.Time(e.At), e.Kind, e.Actor, e.Message]));
            return ExitCodes.Ok;
        });

        var title = new Option<string>("--title") { Description = "What is wrong", Required = true };
        var createSeverity = new Option<string?>("--severity") { Description = "critical, warning (default) or info" };
        var createServer = new Option<string?>("--server") { Description = "The server it concerns (name or id)" };
        var summary = new Option<string?>("--summary") { Description = "More detail" };
        var label = new Option<string[]>("--label") { Description = "A label k=v; repeat for several" };
        var createJson = Shared.JsonOption();
        var create = new Command("create", "Open an incident by hand") { title, createSeverity, createServer, summary, label, createJson };
        create.SetAction(async (parse, ct) =>
        {
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(label) ?? [])
            {
                var parts = pair.Split('=', 2);
                if (parts.Length != 2 || parts[0].Length == 0) throw new CliException($"--label '{pair}' is not key=value", "write labels as --label team=shop");
                labels[parts[0]] = parts[1];
            }

            using var client = Shared.RequireSession(parse).Client();
            var created = await client.SendAsync(HttpMethod.Post, "/api/v1/incidents",
                new CreateIncidentRequest(parse.GetValue(title)!, parse.GetValue(createSeverity), parse.GetValue(createServer), parse.GetValue(summary), null, labels.Count > 0 ? labels : null),
                MedicJson.Default.CreateIncidentRequest, ApiClient.Json.IncidentResponse, ct);
            if (parse.GetValue(createJson)) Output.Json(created, ApiClient.Json.IncidentResponse);
            else Console.Out.WriteLine($"Opened incident {created.Id} ({created.Severity}): {created.Title}");
            return ExitCodes.Ok;
        });

        return new Command("incidents", "Problems Medic knows about: list, show, open by hand, acknowledge, resolve, report, watch live")
        {
            list, show, create, Comment(), ReportCommand.Report(), PipelineCommands.Propose(), PipelineCommands.Remediations(), Change("ack", "acknowledge", "Acknowledge an incident: you are on it"), Change("resolve", "resolve", "Resolve an incident by hand"), Watch(),
        };
    }

    private static Command Change(string name, string action, string description)
    {
        var id = new Argument<string>("id") { Description = "Incident id (inc_…)" };
        var comment = new Option<string?>("--comment") { Description = "Recorded on the timeline and in the audit log" };
        var json = Shared.JsonOption();
        var command = new Command(name, description) { id, comment, json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var i = await client.SendAsync(HttpMethod.Post, $"/api/v1/incidents/{Shared.Escape(parse.GetValue(id)!)}/{action}",
                new IncidentCommentRequest(parse.GetValue(comment)), MedicJson.Default.IncidentCommentRequest, ApiClient.Json.IncidentResponse, ct);
            if (parse.GetValue(json)) Output.Json(i, ApiClient.Json.IncidentResponse);
            else Console.Out.WriteLine($"{i.Id} is {i.Status.ToText()}{(i.AcknowledgedBy is null ? "" : $", acknowledged by {i.AcknowledgedBy}")}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Comment()
    {
        var id = new Argument<string>("id") { Description = "Incident id (inc_…)" };
        var text = new Argument<string>("text") { Description = "The comment" };
        var command = new Command("comment", "Add a comment to an incident's timeline") { id, text };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var i = await client.SendAsync(HttpMethod.Post, $"/api/v1/incidents/{Shared.Escape(parse.GetValue(id)!)}/comments",
                new AddCommentRequest(parse.GetValue(text)!), MedicJson.Default.AddCommentRequest, ApiClient.Json.IncidentResponse, ct);
            Console.Out.WriteLine($"Commented on {i.Id}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Follows <c>/ws/incidents</c>: one line (or one JSON object) per change until Ctrl-C.</summary>
    private static Command Watch()
    {
        var json = Shared.JsonOption();
        var watch = new Command("watch", "Print incident changes as they happen, until Ctrl-C") { json };
        watch.SetAction(async (parse, ct) =>
        {
            var session = Shared.RequireSession(parse);
            using var client = session.Client();
            try
            {
                await foreach (var frame in LiveStream.ReadAsync(client, session.Context.Token!, "/ws/incidents", ct))
                {
                    var m = JsonSerializer.Deserialize(frame, ApiClient.Json.IncidentFeedMessage)!;
                    if (parse.GetValue(json)) Console.Out.WriteLine(JsonSerializer.Serialize(m, ApiClient.Json.IncidentFeedMessage));
                    else Console.Out.WriteLine($"{Output.Time(DateTimeOffset.UtcNow)} {m.Action,-12} {m.Incident.Id} {m.Incident.Severity,-8} {m.Incident.Server ?? "-"}: {m.Incident.Title}");
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (WebSocketException ex)
            {
                throw new CliException("the live incident feed closed: " + ex.Message, "check the server with 'medic doctor' and run 'medic incidents watch' again");
            }

            return ExitCodes.Ok;
        });
        return watch;
    }

    private static string Shorten(string text, int max) => Texts.Truncate(text, max);
}
