using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization.Metadata;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Runbooks;

namespace Medic.Cli.Commands;

/// <summary>
/// The remediation pipeline from the terminal: <c>medic approvals</c>, <c>medic approve</c>,
/// <c>medic reject</c>, <c>medic incidents propose/remediations</c> and <c>medic pipeline settings|rules|windows</c>.
/// </summary>
internal static class PipelineCommands
{
    public static Command Approvals()
    {
        var status = new Option<string?>("--status") { Description = "pending (default), approved, rejected, expired, cancelled or all" };
        var incident = new Option<string?>("--incident") { Description = "Only this incident's requests" };
        var json = Shared.JsonOption();
        var command = new Command("approvals", "Remediations waiting on an approver (and, with --status, decided ones)") { status, incident, json };
        command.SetAction(async (parse, ct) =>
        {
            var query = new List<string>();
            if (parse.GetValue(status) is { } s) query.Add("status=" + Uri.EscapeDataString(s));
            if (parse.GetValue(incident) is { } i) query.Add("incident=" + Uri.EscapeDataString(i));
            using var client = Shared.RequireSession(parse).Client();
            var list = await client.GetAsync("/api/v1/approvals" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), ApiClient.Json.IReadOnlyListApprovalResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(list, ApiClient.Json.IReadOnlyListApprovalResponse);
                return ExitCodes.Ok;
            }

            if (list.Count == 0)
            {
                Console.Out.WriteLine(parse.GetValue(status) is null or "pending" ? "Nothing waits for approval." : "No approval requests match.");
                return ExitCodes.Ok;
            }

            Output.Table(["ID", "STATUS", "RISK", "RUNBOOK", "SERVER", "INCIDENT", "REQUESTED BY", "EXPIRES"], list.Select(a => (IReadOnlyList<string?>)
                [a.Id, a.Status.ToText(), a.Risk, $"{a.Runbook} v{a.Version}", a.Server ?? "-", a.IncidentId, a.RequestedBy, Output.Time(a.ExpiresAt)]));
            Console.Out.WriteLine("Details: medic approvals show ID; decide: medic approve ID | medic reject ID --reason TEXT");
            return ExitCodes.Ok;
        });

        var showId = new Argument<string>("id") { Description = "Approval id (apr_…)" };
        var showJson = Shared.JsonOption();
        var show = new Command("show", "Exactly what an approval would run, where, with which parameters, at what risk") { showId, showJson };
        show.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var a = await client.GetAsync("/api/v1/approvals/" + Shared.Escape(parse.GetValue(showId)!), ApiClient.Json.ApprovalResponse, ct);
            if (parse.GetValue(showJson)) Output.Json(a, ApiClient.Json.ApprovalResponse);
            else Print(a);
            return ExitCodes.Ok;
        });
        command.Subcommands.Add(show);
        return command;
    }

    public static Command Approve() => Decision(
        "approve", "Approve a waiting remediation: it runs now (never your own request)",
        new Option<string?>("--comment") { Description = "Recorded with the decision, on the timeline and in the audit log" },
        text => new ApproveRequest(text), MedicJson.Default.ApproveRequest,
        a => $"Approved {a.Id}: {a.Runbook} v{a.Version} runs on {a.Server ?? "-"} for incident {a.IncidentId}. Follow it with: medic incidents show {a.IncidentId}");

    public static Command Reject() => Decision(
        "reject", "Reject a waiting remediation: nothing runs and the incident is escalated to a person",
        new Option<string?>("--reason") { Description = "Why not: recorded, and the incident is escalated", Required = true },
        text => new RejectRequest(text), MedicJson.Default.RejectRequest,
        a => $"Rejected {a.Id}; incident {a.IncidentId} is escalated.");

    /// <summary><c>medic approve|reject ID</c>: posts the decision with its text to <c>/api/v1/approvals/{id}/{name}</c>.</summary>
    private static Command Decision<TRequest>(
        string name, string description, Option<string?> text, Func<string?, TRequest> request, JsonTypeInfo<TRequest> requestJson, Func<ApprovalResponse, string> done)
    {
        var id = new Argument<string>("id") { Description = "Approval id (apr_…)" };
        var json = Shared.JsonOption();
        var command = new Command(name, description) { id, text, json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var a = await client.SendAsync(HttpMethod.Post, $"/api/v1/approvals/{Shared.Escape(parse.GetValue(id)!)}/{name}",
                request(parse.GetValue(text)), requestJson, ApiClient.Json.ApprovalResponse, ct);
            if (parse.GetValue(json)) Output.Json(a, ApiClient.Json.ApprovalResponse);
            else Console.Out.WriteLine(done(a));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary><c>medic incidents propose ID RUNBOOK --param k=v</c>.</summary>
    public static Command Propose()
    {
        var id = new Argument<string>("id") { Description = "Incident id (inc_…)" };
        var runbook = new Argument<string>("runbook") { Description = "The recipe (runbook name), e.g. delete-old-files" };
        var parameters = new Option<string[]>("--param") { Description = "A parameter, k=v (repeatable)" };
        var version = new Option<int?>("--version") { Description = "A runbook version (default: the latest)" };
        var json = Shared.JsonOption();
        var command = new Command("propose", "Propose a recipe for an incident; another person approves it before it runs") { id, runbook, parameters, version, json };
        command.SetAction(async (parse, ct) =>
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(parameters) ?? [])
            {
                var parts = pair.Split('=', 2);
                if (parts.Length != 2 || parts[0].Length == 0) throw new CliException($"--param '{pair}' is not k=v", "write --param directory=/var/log/app");
                if (!map.TryAdd(parts[0], parts[1])) throw new CliException($"--param {parts[0]} is given twice", "give each name once");
            }

            using var client = Shared.RequireSession(parse).Client();
            var r = await client.SendAsync(HttpMethod.Post, $"/api/v1/incidents/{Shared.Escape(parse.GetValue(id)!)}/remediations",
                new ProposeRemediationRequest(parse.GetValue(runbook)!, map, parse.GetValue(version)), MedicJson.Default.ProposeRemediationRequest, ApiClient.Json.RemediationResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(r, ApiClient.Json.RemediationResponse);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"Proposed {r.Runbook} v{r.Version} ({r.Risk} risk) on {r.Server ?? "-"}: {r.Status.ToText()} ({r.GateReason}).");
            if (r.Status == RemediationStatus.AwaitingApproval) Console.Out.WriteLine("Another approver decides: medic approvals");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary><c>medic incidents remediations ID</c>.</summary>
    public static Command Remediations()
    {
        var id = new Argument<string>("id") { Description = "Incident id (inc_…)" };
        var json = Shared.JsonOption();
        var command = new Command("remediations", "What the pipeline proposed and ran for an incident, one line per round") { id, json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var list = await client.GetAsync($"/api/v1/incidents/{Shared.Escape(parse.GetValue(id)!)}/remediations", ApiClient.Json.IReadOnlyListRemediationResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(list, ApiClient.Json.IReadOnlyListRemediationResponse);
                return ExitCodes.Ok;
            }

            Output.Table(["ROUND", "RUNBOOK", "RISK", "SERVER", "PROPOSED BY", "GATE", "STATUS", "RUN", "DETAIL"], list.Select(r => (IReadOnlyList<string?>)
                [r.Round.ToString(CultureInfo.InvariantCulture), $"{r.Runbook} v{r.Version}", r.Risk, r.Server ?? "-", r.ProposedBy, r.Gate, r.Status.ToText(), r.RunId ?? "-",
                 r.Error ?? r.Verification ?? r.GateReason]));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Pipeline() => new("pipeline", "The tenant's automation: settings, triage rules, change windows") { Settings(), Rules(), Windows() };

    private static Command Settings()
    {
        var automation = new Option<string?>("--automation") { Description = "on: low-risk recipes from autonomous rules may run on their own; off: a person approves every run" };
        automation.AcceptOnlyFromAmong("on", "off");
        var blast = new Option<int?>("--blast-radius") { Description = "At most this many remediations run without a person per hour (0-10000)" };
        var ttl = new Option<string?>("--approval-ttl") { Description = "How long an approval request waits before it expires (1m-7d), e.g. 30m" };
        var json = Shared.JsonOption();
        var command = new Command("settings", "Show the tenant's automation settings, or change them with the options") { automation, blast, ttl, json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            PipelineSettingsResponse s;
            if (parse.GetValue(automation) is null && parse.GetValue(blast) is null && parse.GetValue(ttl) is null)
            {
                s = await client.GetAsync("/api/v1/pipeline/settings", ApiClient.Json.PipelineSettingsResponse, ct);
            }
            else
            {
                int? seconds = parse.GetValue(ttl) is { } text
                    ? Durations.TryParse(text, out var d) ? (int)d.TotalSeconds : throw new CliException(Duration.NotADuration("--approval-ttl", text), Duration.Hint)
                    : null;
                s = await client.SendAsync(HttpMethod.Put, "/api/v1/pipeline/settings",
                    new PipelineSettingsRequest(parse.GetValue(automation) is { } a ? a == "on" : null, parse.GetValue(blast), seconds),
                    MedicJson.Default.PipelineSettingsRequest, ApiClient.Json.PipelineSettingsResponse, ct);
            }

            if (parse.GetValue(json))
            {
                Output.Json(s, ApiClient.Json.PipelineSettingsResponse);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"automation:     {(s.Automation ? "on" : "off (a person approves every run)")}");
            Console.Out.WriteLine($"blast radius:   {s.BlastRadiusPerHour} automatic remediations per hour");
            Console.Out.WriteLine($"approvals wait: {Durations.Format(TimeSpan.FromSeconds(s.ApprovalTtlSeconds))}");
            Console.Out.WriteLine($"triage rules:   {(s.CustomTriageRules ? "the tenant's, then the built-in ones" : "the built-in ones")}");
            if (s.UpdatedBy is not null) Console.Out.WriteLine($"changed:        by {s.UpdatedBy} at {Output.Time(s.UpdatedAt)} UTC");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Rules()
    {
        var json = Shared.JsonOption();
        var command = new Command("rules", "The triage rules in the order they are tried: the tenant's, then the built-in ones") { json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            PrintRules(await client.GetAsync("/api/v1/pipeline/triage-rules", ApiClient.Json.TriageRulesResponse, ct), parse.GetValue(json));
            return ExitCodes.Ok;
        });

        var file = new Option<FileInfo?>("--file", "-f") { Description = "A YAML file of rules (docs/pipeline.md)" };
        var clear = new Option<bool>("--clear") { Description = "Remove the tenant's rules: only the built-in ones apply" };
        var applyJson = Shared.JsonOption();
        var apply = new Command("apply", "Replace the tenant's triage rules with a YAML file") { file, clear, applyJson };
        apply.SetAction(async (parse, ct) =>
        {
            var f = parse.GetValue(file);
            if (f is null == !parse.GetValue(clear)) throw new CliException("give either --file FILE or --clear", "medic pipeline rules apply -f rules.yaml");
            string yaml = "";
            if (f is not null)
            {
                if (!f.Exists) throw new CliException($"{f.FullName} does not exist", "give the path of a rules file");
                yaml = await File.ReadAllTextAsync(f.FullName, ct);
            }

            using var client = Shared.RequireSession(parse).Client();
            var result = await client.SendAsync(HttpMethod.Put, "/api/v1/pipeline/triage-rules", new TriageRulesRequest(yaml), MedicJson.Default.TriageRulesRequest,
                ApiClient.Json.TriageRulesResponse, ct);
            if (!parse.GetValue(applyJson)) Console.Out.WriteLine(f is null ? "Removed the tenant's triage rules." : $"Applied {result.Rules.Count(r => r.Origin == "tenant")} triage rule(s) from {f.Name}.");
            PrintRules(result, parse.GetValue(applyJson));
            PrintWarnings(result);
            return ExitCodes.Ok;
        });
        command.Subcommands.Add(apply);
        return command;
    }

    private static void PrintRules(TriageRulesResponse rules, bool json)
    {
        if (json)
        {
            Output.Json(rules, ApiClient.Json.TriageRulesResponse);
            return;
        }

        Output.Table(["RULE", "ORIGIN", "MATCH", "RECIPE", "PARAMS", "TRUST", "DIAGNOSE"], rules.Rules.Select(r => (IReadOnlyList<string?>)
        [
            r.Name, r.Origin,
            string.Join(" ", new[] { r.Type is null ? null : "type=" + r.Type, r.Source is null ? null : "source=" + r.Source }.Where(x => x is not null).Concat(r.Labels.Select(l => $"labels.{l.Key}={l.Value}"))),
            r.Recipe, string.Join(" ", r.Params.Select(p => $"{p.Key}={p.Value}")), r.Trust, r.Diagnose is null ? "-" : string.Join("; ", r.Diagnose),
        ]));
    }

    private static void PrintWarnings(TriageRulesResponse rules)
    {
        foreach (var warning in rules.Rules.SelectMany(r => r.Warnings ?? [])) Console.Error.WriteLine("warning: " + warning);
    }

    private static Command Windows()
    {
        var all = new Option<bool>("--all") { Description = "Past windows too" };
        var json = Shared.JsonOption();
        var command = new Command("windows", "Change windows: times when nothing runs without a person") { all, json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var list = await client.GetAsync("/api/v1/change-windows" + (parse.GetValue(all) ? "?all=true" : ""), ApiClient.Json.IReadOnlyListChangeWindowResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(list, ApiClient.Json.IReadOnlyListChangeWindowResponse);
                return ExitCodes.Ok;
            }

            if (list.Count == 0) Console.Out.WriteLine("No change windows.");
            else Output.Table(["ID", "FROM (UTC)", "TO (UTC)", "ACTIVE", "REASON", "BY"], list.Select(w => (IReadOnlyList<string?>)
                [w.Id, Output.Time(w.StartsAt), Output.Time(w.EndsAt), w.Active ? "yes" : "no", w.Reason, w.CreatedBy]));
            return ExitCodes.Ok;
        });

        var from = new Option<string?>("--from") { Description = "Start: a time (2026-11-21T22:00:00Z) or 'now' (default)" };
        var to = new Option<string?>("--to") { Description = "End: a time" };
        var duration = new Option<string?>("--for") { Description = "Or a length from the start, e.g. 2h" };
        var reason = new Option<string>("--reason") { Description = "Why (a deploy, a migration)", Required = true };
        var addJson = Shared.JsonOption();
        var add = new Command("add", "Add a change window") { from, to, duration, reason, addJson };
        add.SetAction(async (parse, ct) =>
        {
            var start = Time(parse.GetValue(from), "--from") ?? DateTimeOffset.UtcNow;
            DateTimeOffset end;
            if (parse.GetValue(duration) is { } length)
            {
                if (parse.GetValue(to) is not null) throw new CliException("give --to or --for, not both", "medic pipeline windows add --for 2h --reason deploy");
                end = Durations.TryParse(length, out var d) ? start + d : throw new CliException(Duration.NotADuration("--for", length), Duration.Hint);
            }
            else
            {
                end = Time(parse.GetValue(to), "--to") ?? throw new CliException("say when the window ends", "pass --to TIME or --for 2h");
            }

            using var client = Shared.RequireSession(parse).Client();
            var w = await client.SendAsync(HttpMethod.Post, "/api/v1/change-windows", new ChangeWindowRequest(start, end, parse.GetValue(reason)!),
                MedicJson.Default.ChangeWindowRequest, ApiClient.Json.ChangeWindowResponse, ct);
            if (parse.GetValue(addJson)) Output.Json(w, ApiClient.Json.ChangeWindowResponse);
            else Console.Out.WriteLine($"Change window {w.Id}: {Output.Time(w.StartsAt)} to {Output.Time(w.EndsAt)} UTC; nothing runs without a person then.");
            return ExitCodes.Ok;
        });

        var id = new Argument<string>("id") { Description = "Change window id (cw_…)" };
        var remove = new Command("remove", "Remove a change window") { id };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var w = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/change-windows/" + Shared.Escape(parse.GetValue(id)!)), ApiClient.Json.ChangeWindowResponse, ct);
            Console.Out.WriteLine($"Removed change window {w.Id} ({w.Reason}).");
            return ExitCodes.Ok;
        });
        command.Subcommands.Add(add);
        command.Subcommands.Add(remove);
        return command;
    }

    private static DateTimeOffset? Time(string? text, string flag) => text switch
    {
        null => null,
        "now" => DateTimeOffset.UtcNow,
        _ => DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : throw new CliException($"{flag} '{text}' is not a time", "use ISO 8601 such as 2026-11-21T22:00:00Z"),
    };

    private static void Print(ApprovalResponse a)
    {
        Console.Out.WriteLine($"{a.Id}: {a.Runbook} v{a.Version} on {a.Server ?? "-"} ({a.Risk} risk), {a.Status.ToText()}");
        Console.Out.WriteLine($"incident:     {a.IncidentId}: {a.IncidentTitle}");
        Console.Out.WriteLine($"requested by: {a.RequestedBy} at {Output.Time(a.CreatedAt)} UTC ({a.Reason})");
        Console.Out.WriteLine($"expires:      {Output.Time(a.ExpiresAt)} UTC");
        if (a.DecidedAt is not null) Console.Out.WriteLine($"decided:      {a.Status.ToText()} by {a.DecidedBy ?? "-"} at {Output.Time(a.DecidedAt)} UTC{(a.Comment is null ? "" : ": " + a.Comment)}");
        foreach (var (k, v) in a.Params) Console.Out.WriteLine($"param:        {k} = {v}");
        Console.Out.WriteLine($"link:         {a.Link}");
        Console.Out.WriteLine();
        Console.Out.WriteLine("What will run:");
        foreach (var s in a.Plan)
        {
            var what = s.Argv is { Count: > 0 } argv ? string.Join(' ', argv) : s.Detail ?? "";
            Console.Out.WriteLine($"  {s.Phase} {s.Step}. [{s.Type}] {s.Name}: {what.TrimEnd().Replace("\n", "\n      ", StringComparison.Ordinal)}");
        }
    }
}
