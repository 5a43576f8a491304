using System.CommandLine;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>medic checks add/list/show/run/remove</c>: scheduled checks run by the control plane.</summary>
internal static class CheckCommands
{
    public static Command Checks()
    {
        var name = new Argument<string>("name") { Description = "A name such as shop-health" };
        var http = new Option<string?>("--http") { Description = "Check this URL answers 2xx/3xx (or --expect-status)" };
        var tcp = new Option<string?>("--tcp") { Description = "Check host:port accepts connections" };
        var command = new Option<string?>("--command") { Description = "Run this command on --server (exit 0 passes)" };
        var server = new Option<string?>("--server") { Description = "The server a command check runs on (name or id)" };
        var expect = new Option<int?>("--expect-status") { Description = "The HTTP status that passes" };
        var body = new Option<string?>("--body-regex") { Description = "A regular expression the HTTP body must match" };
        var interval = new Option<string?>("--interval") { Description = "How often, 10s to 1d (default 60s)" };
        var timeout = new Option<int?>("--timeout") { Description = "Seconds before a run counts as failed (default 10)" };
        var failures = new Option<int?>("--failures") { Description = "Failed runs in a row before an incident opens (default 2)" };
        var severity = new Option<string?>("--severity") { Description = "critical, warning (default) or info" };
        var addJson = Shared.JsonOption();
        var add = new Command("add", "Add a check (admins): exactly one of --http URL, --tcp HOST:PORT or --command CMD --server NAME")
        {
            name, http, tcp, command, server, expect, body, interval, timeout, failures, severity, addJson,
        };
        add.SetAction(async (parse, ct) =>
        {
            var kinds = new[] { (CheckKinds.Http, parse.GetValue(http)), (CheckKinds.Tcp, parse.GetValue(tcp)), (CheckKinds.Command, parse.GetValue(command)) }
                .Where(k => k.Item2 is not null).ToList();
            if (kinds.Count != 1) throw new CliException("give exactly one of --http, --tcp or --command", "e.g. medic checks add shop --http https://shop.example.com/health");
            var (kind, what) = kinds[0];
            var request = new CreateCheckRequest(parse.GetValue(name)!, kind, kind == CheckKinds.Command ? null : what, parse.GetValue(server), kind == CheckKinds.Command ? what : null,
                parse.GetValue(expect), parse.GetValue(body), parse.GetValue(interval), parse.GetValue(timeout), parse.GetValue(failures), parse.GetValue(severity));
            using var client = Shared.RequireSession(parse).Client();
            var created = await client.SendAsync(HttpMethod.Post, "/api/v1/checks", request, MedicJson.Default.CreateCheckRequest, ApiClient.Json.CheckResponse, ct);
            if (parse.GetValue(addJson)) Output.Json(created, ApiClient.Json.CheckResponse);
            else Console.Out.WriteLine($"Added check {created.Name} ({created.Id}): {created.Kind} every {created.IntervalSeconds} s; it runs now.");
            return ExitCodes.Ok;
        });

        var json = Shared.JsonOption();
        var list = new Command("list", "List checks with their state and last result") { json };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var checks = await client.GetAsync("/api/v1/checks", ApiClient.Json.IReadOnlyListCheckResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(checks, ApiClient.Json.IReadOnlyListCheckResponse);
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "KIND", "TARGET", "EVERY", "STATE", "LAST RUN", "DETAIL"], checks.Select(c => (IReadOnlyList<string?>)
            [
                c.Name, c.Kind, c.Kind == CheckKinds.Command ? $"{c.Server}: {c.Command}" : c.Target, c.IntervalSeconds + "s",
                c.State.ToText() + (c.ConsecutiveFailures > 0 ? $" ({c.ConsecutiveFailures} failed)" : ""), Output.Time(c.LastRunAt), c.LastDetail,
            ]));
            return ExitCodes.Ok;
        });

        return new Command("checks", "Scheduled HTTP, TCP and command checks run by the control plane; failures open incidents")
        {
            add, list, Detail("show", "Show a check and its recent results", run: false), Detail("run", "Run a check now and print its result", run: true), Remove(),
        };
    }

    private static Command Detail(string verb, string description, bool run)
    {
        var id = new Argument<string>("check") { Description = "Check name or id" };
        var json = Shared.JsonOption();
        var command = new Command(verb, description) { id, json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var path = "/api/v1/checks/" + Shared.Escape(parse.GetValue(id)!);
            var d = run
                ? await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, path + "/run"), ApiClient.Json.CheckDetailResponse, ct)
                : await client.GetAsync(path, ApiClient.Json.CheckDetailResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(d, ApiClient.Json.CheckDetailResponse);
                return ExitCodes.Ok;
            }

            var c = d.Check;
            Console.Out.WriteLine($"{c.Name} ({c.Id}): {c.Kind} {(c.Kind == CheckKinds.Command ? $"'{c.Command}' on {c.Server}" : c.Target)}, every {c.IntervalSeconds} s, timeout {c.TimeoutSeconds} s");
            Console.Out.WriteLine($"state: {c.State.ToText()}; an incident ({c.Severity}) opens after {c.Failures} failed run(s) in a row; next run {Output.Time(c.NextRunAt)} UTC");
            Console.Out.WriteLine();
            Output.Table(["TIME", "RESULT", "MS", "DETAIL"], d.Results.Select(r => (IReadOnlyList<string?>)
                [Output.Time(r.At), r.Ok ? "pass" : "FAIL", r.DurationMs.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Detail]));
            return run && d.Results is [{ Ok: false }, ..] ? ExitCodes.CheckFailed : ExitCodes.Ok;
        });
        return command;
    }

    private static Command Remove()
    {
        var id = new Argument<string>("check") { Description = "Check name or id" };
        var remove = new Command("remove", "Remove a check (admins)") { id };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var c = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/checks/" + Shared.Escape(parse.GetValue(id)!)), ApiClient.Json.CheckResponse, ct);
            Console.Out.WriteLine($"Removed check {c.Name}.");
            return ExitCodes.Ok;
        });
        return remove;
    }

    private static class CheckKinds
    {
        public const string Http = "http";
        public const string Tcp = "tcp";
        public const string Command = "command";
    }
}
