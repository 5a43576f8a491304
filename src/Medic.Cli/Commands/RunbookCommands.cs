using System.CommandLine;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Runbooks;

namespace Medic.Cli.Commands;

/// <summary><c>medic runbook apply/list/show/diff/run/runs</c>: versioned runbooks and hand-started runs with live output.</summary>
internal static class RunbookCommands
{
    public static Command Runbook() => new("runbook", "Runbooks: apply YAML versions, list, show and diff them, run one on servers")
    {
        Apply(), List(), Show(), Diff(), Run(), Runs(),
    };

    private static Command Apply()
    {
        var file = new Option<string>("-f", "--file") { Description = "A runbook YAML file, or a directory of them (*.yaml, *.yml)", Required = true };
        var json = Shared.JsonOption();
        var command = new Command("apply", "Store runbooks (admins): a file, or every YAML file of a directory; unchanged content is a no-op") { file, json };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            var files = Directory.Exists(path)
                ? Directory.EnumerateFiles(path).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList()
                : File.Exists(path) ? [path]
                : throw new CliException($"{path} is neither a file nor a directory", "pass a runbook YAML file or a directory of them: medic runbook apply -f runbooks/");
            if (files.Count == 0) throw new CliException($"{path} holds no .yaml or .yml file", "put runbook files in it, or name one file");

            using var client = Shared.RequireSession(parse).Client();
            var applied = new List<RunbookApplyResponse>();
            var failed = 0;
            foreach (var f in files)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/runbooks") { Content = new StringContent(await File.ReadAllTextAsync(f, ct), Encoding.UTF8, "application/yaml") };
                    var r = await client.SendAsync(request, ApiClient.Json.RunbookApplyResponse, ct);
                    applied.Add(r);
                    if (!parse.GetValue(json))
                    {
                        Console.Out.WriteLine($"{r.Name} v{r.Version}: {(r.Changed ? "stored" : "unchanged")}{(r.OverridesBuiltin ? " (overrides the built-in)" : "")} ({Path.GetFileName(f)})");
                    }
                }
                catch (CliException ex) when (ex.ExitCode == ExitCodes.Usage && files.Count > 1)
                {
                    // Apply the other files too; each problem is reported with its file.
                    Shared.PrintError($"{f}: {ex.Message}", ex.Remedy);
                    failed++;
                }
                catch (CliException ex) when (ex.ExitCode == ExitCodes.Usage)
                {
                    throw new CliException($"{f}: {ex.Message}", ex.Remedy);
                }
            }

            if (parse.GetValue(json)) Output.Json<IReadOnlyList<RunbookApplyResponse>>(applied, ApiClient.Json.IReadOnlyListRunbookApplyResponse);
            return failed == 0 ? ExitCodes.Ok : ExitCodes.Usage;
        });
        return command;
    }

    private static Command List()
    {
        var json = Shared.JsonOption();
        var command = new Command("list", "List runbooks: the tenant's own and the built-ins, latest versions") { json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var runbooks = await client.GetAsync("/api/v1/runbooks", ApiClient.Json.IReadOnlyListRunbookSummary, ct);
            if (parse.GetValue(json))
            {
                Output.Json(runbooks, ApiClient.Json.IReadOnlyListRunbookSummary);
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "VERSION", "RISK", "SOURCE", "DESCRIPTION"], runbooks.Select(r => (IReadOnlyList<string?>)
                [r.Name, r.Version.ToString(CultureInfo.InvariantCulture), r.Risk, r.OverridesBuiltin ? "tenant (overrides built-in)" : r.Source, r.Description]));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Runs()
    {
        var runbook = new Option<string?>("--runbook") { Description = "Only runs of this runbook" };
        var status = new Option<string?>("--status") { Description = "Only runs in this status: running, succeeded, failed or interrupted" };
        var limit = new Option<int?>("--limit") { Description = "How many (1-500, default 50)" };
        var before = new Option<string?>("--before") { Description = "Runs older than this run id (the next page)" };
        var json = Shared.JsonOption();
        var command = new Command("runs", "List past runbook runs, newest first") { runbook, status, limit, before, json };
        command.SetAction(async (parse, ct) =>
        {
            var query = new List<string>();
            void Add(string name, string? value)
            {
                if (!string.IsNullOrEmpty(value)) query.Add(name + "=" + Uri.EscapeDataString(value));
            }

            Add("runbook", parse.GetValue(runbook));
            Add("status", parse.GetValue(status));
            Add("limit", parse.GetValue(limit)?.ToString(CultureInfo.InvariantCulture));
            Add("before", parse.GetValue(before));
            using var client = Shared.RequireSession(parse).Client();
            var page = await client.GetAsync("/api/v1/runbook-runs" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), ApiClient.Json.RunbookRunPage, ct);
            if (parse.GetValue(json))
            {
                Output.Json(page, ApiClient.Json.RunbookRunPage);
                return ExitCodes.Ok;
            }

            Output.Table(["ID", "RUNBOOK", "VERSION", "STATUS", "BY", "SERVERS", "STARTED", "FINISHED"], page.Items.Select(r => (IReadOnlyList<string?>)
            [
                r.Id, r.Runbook, r.Version.ToString(CultureInfo.InvariantCulture), r.Status.ToText(), r.Actor, r.Targets.Count == 0 ? "-" : string.Join(",", r.Targets),
                Output.Time(r.CreatedAt), Output.Time(r.FinishedAt),
            ]));
            if (page.NextBefore is not null) Console.Out.WriteLine($"More: medic runbook runs --before {page.NextBefore}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show()
    {
        var name = new Argument<string>("name") { Description = "Runbook name" };
        var version = new Option<int?>("--version") { Description = "This version instead of the latest" };
        var json = Shared.JsonOption();
        var command = new Command("show", "Show a runbook's YAML, parameters and versions") { name, version, json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var path = "/api/v1/runbooks/" + Shared.Escape(parse.GetValue(name)!) + (parse.GetValue(version) is { } v ? "?version=" + v.ToString(CultureInfo.InvariantCulture) : "");
            var r = await client.GetAsync(path, ApiClient.Json.RunbookResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(r, ApiClient.Json.RunbookResponse);
                return ExitCodes.Ok;
            }

            var s = r.Runbook;
            Console.Out.WriteLine($"{s.Name} v{s.Version} ({s.Risk} risk, {(s.OverridesBuiltin ? "tenant, overrides the built-in" : s.Source)}): {s.Description}");
            Console.Out.WriteLine($"versions: {string.Join(", ", r.Versions)}; this one by {s.Author} at {Output.Time(s.CreatedAt)} UTC, sha256 {s.ContentHash}");
            if (r.Parameters.Count > 0)
            {
                Console.Out.WriteLine();
                Output.Table(["PARAMETER", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"], r.Parameters.Select(p => (IReadOnlyList<string?>)
                    [p.Name, p.Type == "enum" ? $"enum ({string.Join("|", p.Values ?? [])})" : p.Type, p.Required ? "yes" : "no", p.Default, p.Description]));
            }

            Console.Out.WriteLine();
            Console.Out.Write(r.Content.EndsWith('\n') ? r.Content : r.Content + "\n");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Diff()
    {
        var name = new Argument<string>("name") { Description = "Runbook name" };
        var from = new Argument<int>("from") { Description = "The older version" };
        var to = new Argument<int>("to") { Description = "The newer version" };
        var json = Shared.JsonOption();
        var command = new Command("diff", "Show what changed between two versions (unified diff)") { name, from, to, json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var d = await client.GetAsync(FormattableString.Invariant($"/api/v1/runbooks/{Shared.Escape(parse.GetValue(name)!)}/diff?from={parse.GetValue(from)}&to={parse.GetValue(to)}"),
                ApiClient.Json.RunbookDiffResponse, ct);
            if (parse.GetValue(json)) Output.Json(d, ApiClient.Json.RunbookDiffResponse);
            else Console.Out.Write(d.Diff.Length == 0 ? $"{d.Name} v{d.From} and v{d.To} are the same.\n" : d.Diff);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Run()
    {
        var name = new Argument<string>("name") { Description = "Runbook name" };
        var targets = new Option<string[]>("--server", "--target") { Description = "Server name or id (repeatable; --target is the old name)" };
        var tags = new Option<string[]>("--tag") { Description = "Servers with this tag, k=v (repeatable; all must match)" };
        var all = new Option<bool>("--all") { Description = "Every server of the tenant" };
        var parameters = new Option<string[]>("--param") { Description = "A parameter, k=v (repeatable)" };
        var version = new Option<int?>("--version") { Description = "Run this version instead of the latest" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Show the servers and the exact argv and environment of every step; run nothing" };
        var yes = new Option<bool>("--yes") { Description = "Confirm the runbook's approval steps without asking" };
        var key = new Option<string?>("--idempotency-key") { Description = "Run at most once under this key; a repeat shows the earlier run" };
        var json = Shared.JsonOption();
        var command = new Command("run", "Run a runbook on servers with live output; exits 1 if a step fails")
        {
            name, targets, tags, all, parameters, version, dryRun, yes, key, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var names = parse.GetValue(targets) ?? [];
            var tagMap = Pairs(parse.GetValue(tags), "--tag", "role=web");
            var selector = names.Length > 0 || tagMap.Count > 0 || parse.GetValue(all) ? new ExecSelector(names.Length > 0 ? names : null, tagMap.Count > 0 ? tagMap : null, All: parse.GetValue(all)) : null;
            var request = new RunbookRunRequest(Pairs(parse.GetValue(parameters), "--param", "unit=nginx"), selector, parse.GetValue(dryRun), parse.GetValue(yes), parse.GetValue(version),
                parse.GetValue(key));
            var session = Shared.RequireSession(parse);
            using var client = session.Client();
            var path = "/api/v1/runbooks/" + Shared.Escape(parse.GetValue(name)!) + "/runs";
            var quiet = parse.GetValue(json);

            if (!request.DryRun && !request.Confirmed && !Console.IsInputRedirected && !quiet)
            {
                // Ask before starting when the runbook has approval steps: the plan lists them.
                var plan = await client.SendAsync(HttpMethod.Post, path, request with { DryRun = true }, MedicJson.Default.RunbookRunRequest, ApiClient.Json.RunbookRunResponse, ct);
                var approvals = (plan.Plan ?? []).Where(p => p.Type == "approval").Select(p => p.Detail).Distinct().ToList();
                if (approvals.Count > 0)
                {
                    foreach (var a in approvals) Console.Error.WriteLine(a);
                    Console.Error.Write($"Run {plan.Runbook} ({plan.Targets.Count} server(s): {string.Join(", ", plan.Targets)}) and approve these steps? [y/N] ");
                    if (Console.ReadLine()?.Trim().ToLowerInvariant() is not ("y" or "yes")) throw new CliException("not confirmed; nothing ran", "answer y to run it, or pass --yes");
                    request = request with { Confirmed = true };
                }
            }

            var started = await client.SendAsync(HttpMethod.Post, path, request, MedicJson.Default.RunbookRunRequest, ApiClient.Json.RunbookRunResponse, ct);
            if (started.DryRun)
            {
                if (quiet) Output.Json(started, ApiClient.Json.RunbookRunResponse);
                else PrintPlan(started);
                return ExitCodes.Ok;
            }

            if (!quiet) Console.Error.WriteLine($"Run {started.Id}: {started.Runbook} v{started.Version} on {started.Targets.Count} server(s): {string.Join(", ", started.Targets)}");
            await FollowAsync(session, client, started.Id, quiet, ct);
            var final = await client.GetAsync("/api/v1/runbook-runs/" + started.Id, ApiClient.Json.RunbookRunResponse, ct);
            if (quiet) Output.Json(final, ApiClient.Json.RunbookRunResponse);
            else Console.Error.WriteLine($"Run {final.Id} {final.Status.ToText()}{(final.Error is null ? "" : ": " + final.Error)}");
            return final.Status == RunbookRunStatus.Succeeded ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });
        return command;
    }

    private static void PrintPlan(RunbookRunResponse plan)
    {
        Console.Out.WriteLine(plan.Targets.Count == 0
            ? $"{plan.Runbook} v{plan.Version} matches no server."
            : $"{plan.Runbook} v{plan.Version} would run on {plan.Targets.Count} server(s): {string.Join(", ", plan.Targets)}");
        foreach (var (k, v) in plan.Params) Console.Out.WriteLine($"  param {k} = {v}");
        foreach (var p in plan.Plan ?? [])
        {
            Console.Out.WriteLine($"{p.Server}: {(p.Phase == "rollback" ? "rollback " : "")}step {p.Step} '{p.Name}' ({p.Type}){(p.When is null ? "" : " when " + p.When)}");
            if (p.Argv is not null) Console.Out.WriteLine("    argv: [" + string.Join(", ", p.Argv.Select(Quote)) + "]");
            if (p.Env is { Count: > 0 }) Console.Out.WriteLine("    env:  " + string.Join(" ", p.Env.Select(e => $"{e.Key}={Quote(e.Value)}")));
            if (p.Argv is null && p.Detail is not null) Console.Out.WriteLine("    " + p.Detail);
        }
    }

    /// <summary>Prints the run's events as they come from /ws/runbook-runs/{id}; falls back to polling if the socket fails.</summary>
    private static async Task FollowAsync(Shared.Session session, ApiClient client, string id, bool quiet, CancellationToken ct)
    {
        var seen = new HashSet<int>();
        var streamed = new HashSet<string>(StringComparer.Ordinal);

        // Output arrives in chunks that may end mid-line: hold the unfinished line until its end comes.
        var partial = new Dictionary<string, string>(StringComparer.Ordinal);
        void Lines(string? server, string? stream, string text)
        {
            foreach (var line in text.TrimEnd('\n').Split('\n').Where(l => l.Length > 0)) (stream == "stderr" ? Console.Error : Console.Out).WriteLine($"{server}: {line}");
        }

        void Step(RunbookStepResponse r)
        {
            if (!seen.Add(r.Seq) || quiet) return;
            foreach (var stream in new[] { "stdout", "stderr" })
            {
                if (partial.Remove($"{r.Server}/{r.Phase}/{r.Step}/{stream}", out var rest)) Lines(r.Server, stream, rest);
            }

            // A step that finished before we were watching: its stored output stands in for the live one.
            if (!streamed.Contains($"{r.Server}/{r.Phase}/{r.Step}") && r.Type is not ("notify" or "approval"))
            {
                Lines(r.Server, "stdout", r.Stdout);
                Lines(r.Server, "stderr", r.Stderr);
            }

            var what = $"{r.Server}: {(r.Phase == "rollback" ? "rollback " : "")}step {r.Step} '{r.Name}'";
            Console.Out.WriteLine($"{what} {r.Status.ToText()}{(r.Reason is null ? "" : ": " + r.Reason)} ({r.DurationMs} ms)");
        }

        try
        {
            await foreach (var frame in LiveStream.ReadAsync(client, session.Context.Token!, "/ws/runbook-runs/" + Uri.EscapeDataString(id), ct))
            {
                var e = JsonSerializer.Deserialize(frame, ApiClient.Json.RunbookRunEvent)!;
                switch (e.Type)
                {
                    case "output" when !quiet && e.Data is not null:
                        var key = $"{e.Server}/{e.Phase}/{e.Step}";
                        streamed.Add(key);
                        var text = partial.Remove($"{key}/{e.Stream}", out var held) ? held + e.Data : e.Data;
                        var end = text.LastIndexOf('\n');
                        if (end < text.Length - 1) partial[$"{key}/{e.Stream}"] = text[(end + 1)..];
                        if (end >= 0) Lines(e.Server, e.Stream, text[..(end + 1)]);
                        break;
                    case "step_finished" when e.Result is not null:
                        Step(e.Result);
                        break;
                    case "finished":
                        return;
                }
            }

            return; // the server closed the stream: the run is over
        }
        catch (Exception ex) when (ex is WebSocketException or JsonException or IOException)
        {
            // The REST view has the same results; poll it instead.
        }

        while (true)
        {
            var run = await client.GetAsync("/api/v1/runbook-runs/" + id, ApiClient.Json.RunbookRunResponse, ct);
            foreach (var r in run.Steps) Step(r);
            if (run.Status != RunbookRunStatus.Running) return;
            await Task.Delay(500, ct);
        }
    }

    /// <summary>A value in double quotes with backslashes and quotes escaped, so spaces and empty values show.</summary>
    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static Dictionary<string, string> Pairs(string[]? pairs, string flag, string example)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs ?? [])
        {
            var parts = pair.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0) throw new CliException($"{flag} '{pair}' is not k=v", $"write {flag} {example}");
            if (!map.TryAdd(parts[0], parts[1])) throw new CliException($"{flag} {parts[0]} is given twice", "give each name once");
        }

        return map;
    }
}
