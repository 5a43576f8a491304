using System.CommandLine;
using System.Net.WebSockets;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Common;

namespace Medic.Cli.Commands;

/// <summary><c>medic exec</c>: one command across the selected servers, with live per-server results.</summary>
internal static class ExecCommand
{
    public static Command Create()
    {
        var command = new Argument<string>("command") { Description = "Shell command to run on each server (sh -c)" };
        var servers = new Option<string[]>("--server") { Description = "Server name or id (repeatable)" };
        var tags = new Option<string[]>("--tag") { Description = "Only servers with this tag, k=v (repeatable; all must match)" };
        var env = new Option<string?>("--env") { Description = "Only servers whose env tag is this" };
        var groups = new Option<string[]>("--group") { Description = "Only servers in this group (repeatable; all must match)" };
        var all = new Option<bool>("--all") { Description = "Every server of the tenant" };
        var parallel = new Option<bool>("--parallel") { Description = "Run on servers at the same time (default)" };
        var max = new Option<int?>("--max") { Description = "With --parallel: at most this many at once (default 50)" };
        var serial = new Option<bool>("--serial") { Description = "One server after another" };
        var delay = new Option<string?>("--delay") { Description = "With --serial: pause between servers, e.g. 5s" };
        var batch = new Option<int?>("--batch") { Description = "Batches of this many servers, one batch after another" };
        var timeout = new Option<string?>("--timeout") { Description = "Per-server timeout, e.g. 60s (default 60s)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only list the servers that would run it" };
        var json = Shared.JsonOption();
        var cmd = new Command("exec", "Run a command across servers; exits 1 if any server fails")
        {
            command, servers, tags, env, groups, all, parallel, max, serial, delay, batch, timeout, dryRun, json,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(serial) && (parse.GetValue(parallel) || parse.GetValue(batch) is not null))
            {
                throw new CliException("--serial cannot be combined with --parallel or --batch", "choose one strategy");
            }

            if (parse.GetValue(delay) is not null && !parse.GetValue(serial)) throw new CliException("--delay only applies to --serial", "add --serial, or drop --delay");
            if (parse.GetValue(max) is not null && parse.GetValue(batch) is not null) throw new CliException("--max only applies to --parallel", "drop --max, or use --parallel instead of --batch");

            var strategy = parse.GetValue(serial)
                ? new ExecStrategy("serial", DelaySeconds: Seconds(parse.GetValue(delay), "--delay"))
                : parse.GetValue(batch) is { } size ? new ExecStrategy("batches", BatchSize: size)
                : new ExecStrategy("parallel", Max: parse.GetValue(max));
            var selector = new ExecSelector(
                Names: parse.GetValue(servers) is { Length: > 0 } n ? n : null,
                Tags: ParseTags(parse.GetValue(tags)),
                Environment: parse.GetValue(env),
                Groups: parse.GetValue(groups) is { Length: > 0 } g ? g : null,
                All: parse.GetValue(all));
            var timeoutSeconds = Seconds(parse.GetValue(timeout), "--timeout");
            var session = Shared.RequireSession(parse);
            using var client = session.Client();
            var started = await client.SendAsync(HttpMethod.Post, "/api/v1/exec",
                new ExecRequest(parse.GetValue(command)!, selector, strategy, timeoutSeconds, parse.GetValue(dryRun)),
                MedicJson.Default.ExecRequest, ApiClient.Json.ExecutionResponse, ct);
            if (started.DryRun)
            {
                if (parse.GetValue(json)) Output.Json(started, ApiClient.Json.ExecutionResponse);
                else Console.Out.WriteLine(started.Targets.Count == 0 ? "No server matches." : $"Would run on {started.Targets.Count}: {string.Join(", ", started.Targets)}");
                return ExitCodes.Ok;
            }

            var quiet = parse.GetValue(json);
            if (!quiet) Console.Error.WriteLine($"Running on {started.Targets.Count} server(s): {string.Join(", ", started.Targets)}");
            var results = await FollowAsync(session, client, started.Id, quiet ? null : Print, ct);
            var final = await client.GetAsync("/api/v1/executions/" + started.Id, ApiClient.Json.ExecutionResponse, ct);
            if (quiet) Output.Json(final, ApiClient.Json.ExecutionResponse);
            var failed = final.Results.Count(r => r.Status != TaskRunStatus.Completed || r.ExitCode is not 0);
            if (!quiet) Console.Error.WriteLine($"{final.Results.Count} server(s): {final.Results.Count - failed} ok, {failed} failed");
            return failed == 0 && results == started.Targets.Count ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });
        return cmd;
    }

    private static void Print(TaskRunResponse r)
    {
        var printed = false;
        foreach (var (text, writer) in new[] { (r.Stdout, Console.Out), (r.Stderr, Console.Error) })
        {
            foreach (var line in text.TrimEnd('\n').Split('\n').Where(l => l.Length > 0))
            {
                writer.WriteLine($"{r.Server}: {line}");
                printed = true;
            }
        }

        if (r.Status != TaskRunStatus.Completed) Console.Out.WriteLine($"{r.Server}: [{r.Status.ToText()}] {r.Reason}");
        else if (r.ExitCode is not 0) Console.Out.WriteLine($"{r.Server}: [exit {r.ExitCode}]");
        else if (!printed) Console.Out.WriteLine($"{r.Server}: [ok]");
    }

    /// <summary>Streams results from /ws/executions/{id}; falls back to polling if the socket fails. Returns how many arrived.</summary>
    private static async Task<int> FollowAsync(Shared.Session session, ApiClient client, string id, Action<TaskRunResponse>? onResult, CancellationToken ct)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await foreach (var frame in LiveStream.ReadAsync(client, session.Context.Token!, "/ws/executions/" + Uri.EscapeDataString(id), ct))
            {
                var r = JsonSerializer.Deserialize(frame, ApiClient.Json.TaskRunResponse)!;
                if (seen.Add(r.Server)) onResult?.Invoke(r);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or JsonException or IOException)
        {
            // The REST view has the same results; poll it instead.
        }

        while (true)
        {
            var e = await client.GetAsync("/api/v1/executions/" + id, ApiClient.Json.ExecutionResponse, ct);
            foreach (var r in e.Results.Where(r => seen.Add(r.Server))) onResult?.Invoke(r);
            if (e.Status != "running") return seen.Count;
            await Task.Delay(500, ct);
        }
    }

    private static int? Seconds(string? text, string flag)
    {
        if (text is null) return null;
        return Duration.TryParse(text, out var span) ? (int)span.TotalSeconds : throw new CliException(Duration.NotADuration(flag, text), Duration.Hint);
    }

    private static Dictionary<string, string>? ParseTags(string[]? pairs)
    {
        if (pairs is not { Length: > 0 }) return null;
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var parts = pair.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0) throw new CliException($"--tag '{pair}' is not k=v", "write --tag role=web");
            if (!tags.TryAdd(parts[0], parts[1])) throw new CliException($"--tag {parts[0]} is given twice", "a server has one value per tag; give each key once");
        }

        return tags;
    }
}
