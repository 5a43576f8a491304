using System.CommandLine;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Common;

namespace Medic.Cli.Commands;

/// <summary><c>medic monitors add/list/show/remove</c>: agent monitors set on the control plane and pushed to agents.</summary>
internal static class MonitorCommands
{
    public static Command Monitors()
    {
        var name = new Argument<string>("name") { Description = "A name such as shop" };
        var server = new Option<string?>("--server") { Description = "The one server it runs on (name or id)" };
        var tag = new Option<string[]>("--tag") { Description = "Or: every server with this tag (k=v; repeat to require several)" };
        var kind = new Option<string>("--kind") { Description = "process, http, tcp, disk, memory, cpu, load, log, tls, file_age or command", Required = true };
        var match = new Option<string?>("--match") { Description = "process: a regular expression matched against command lines" };
        var unit = new Option<string?>("--unit") { Description = "process: a systemd unit" };
        var pidfile = new Option<string?>("--pidfile") { Description = "process: a pidfile" };
        var start = new Option<string?>("--start") { Description = "process: the command the agent starts and supervises (split on spaces; quote with '…' or \"…\")" };
        var heal = new Option<bool>("--heal") { Description = "process: restart it when it dies or hangs (the self-healing ladder, default limits)" };
        var healthHttp = new Option<string?>("--health-http") { Description = "process: a URL whose failure means the process hangs" };
        var url = new Option<string?>("--url") { Description = "http: the URL" };
        var expect = new Option<int?>("--expect-status") { Description = "http: the status that passes" };
        var host = new Option<string?>("--host") { Description = "tcp, tls: the host" };
        var port = new Option<int?>("--port") { Description = "tcp, tls: the port" };
        var mount = new Option<string?>("--mount") { Description = "disk: the mount point" };
        var maxPercent = new Option<double?>("--max-percent") { Description = "disk, memory, cpu: fire at or above this percentage" };
        var path = new Option<string?>("--path") { Description = "log, file_age: the file" };
        var pattern = new Option<string?>("--pattern") { Description = "log: the regular expression" };
        var command = new Option<string?>("--command") { Description = "command: a Nagios-style check (split on spaces)" };
        var interval = new Option<string?>("--interval") { Description = "Time between checks (1s for process, else 15s)" };
        var forOption = new Option<string?>("--for") { Description = "How long the problem must last before it fires" };
        var severity = new Option<string?>("--severity") { Description = "critical (default), warning or info" };
        var json = Shared.JsonOption();
        var add = new Command("add", "Set a monitor on one server or every server with some tags; its agent applies it at once if its policy allows")
        {
            name, server, tag, kind, match, unit, pidfile, start, heal, healthHttp, url, expect, host, port, mount, maxPercent, path, pattern, command, interval, forOption, severity, json,
        };
        add.SetAction(async (parse, ct) =>
        {
            TimeSpan? Duration(Option<string?> option)
            {
                if (parse.GetValue(option) is not { } text) return null;
                return Medic.Contracts.Duration.TryParse(text, out var d) ? d : throw new CliException(Medic.Contracts.Duration.NotADuration(option.Name, text), Medic.Contracts.Duration.Hint);
            }

            var kindValue = Parse(parse.GetValue(kind)!, MonitorJson.Default.MonitorKind, "--kind", "process, http, tcp, disk, memory, cpu, load, log, tls, file_age or command");
            var definition = new MonitorDefinition
            {
                Name = parse.GetValue(name)!, Kind = kindValue, Match = parse.GetValue(match), Unit = parse.GetValue(unit), Pidfile = parse.GetValue(pidfile),
                Start = parse.GetValue(start) is { } s ? Split(s) : null, Heal = parse.GetValue(heal) ? new HealDefinition() : null,
                Health = parse.GetValue(healthHttp) is { } h ? new HealthCheckDefinition { Http = h } : null,
                Url = parse.GetValue(url), ExpectStatus = parse.GetValue(expect), Host = parse.GetValue(host), Port = parse.GetValue(port), Mount = parse.GetValue(mount),
                MaxPercent = parse.GetValue(maxPercent), Path = parse.GetValue(path), Pattern = parse.GetValue(pattern), Command = parse.GetValue(command) is { } c ? Split(c) : null,
                IntervalSeconds = Duration(interval)?.TotalSeconds, ForSeconds = Duration(forOption)?.TotalSeconds ?? 0,
                Severity = parse.GetValue(severity) is { } sev ? Parse(sev, MonitorJson.Default.MonitorSeverity, "--severity", "critical, warning or info") : MonitorSeverity.Critical,
            };
            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(tag) ?? [])
            {
                var parts = pair.Split('=', 2);
                if (parts.Length != 2 || parts[0].Length == 0) throw new CliException($"--tag '{pair}' is not key=value", "write tags as --tag role=web");
                tags[parts[0]] = parts[1];
            }

            using var client = Shared.RequireSession(parse).Client();
            var created = await client.SendAsync(HttpMethod.Post, "/api/v1/monitors", new CreateMonitorRequest(definition.Name, definition, parse.GetValue(server), tags.Count > 0 ? tags : null),
                MedicJson.Default.CreateMonitorRequest, ApiClient.Json.MonitorResponse, ct);
            if (parse.GetValue(json)) Output.Json(created, ApiClient.Json.MonitorResponse);
            else Console.Out.WriteLine($"Set monitor {created.Name} ({created.Kind}) for {Target(created)}; its agents get it now (see 'medic audit list --action monitors.push' for what each applied).");
            return ExitCodes.Ok;
        });

        var listJson = Shared.JsonOption();
        var list = new Command("list", "List the monitors set on the control plane") { listJson };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var monitors = await client.GetAsync("/api/v1/monitors", ApiClient.Json.IReadOnlyListMonitorResponse, ct);
            if (parse.GetValue(listJson))
            {
                Output.Json(monitors, ApiClient.Json.IReadOnlyListMonitorResponse);
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "KIND", "FOR", "WATCHES", "CREATED BY"], monitors.Select(m => (IReadOnlyList<string?>)[m.Name, m.Kind, Target(m), Watches(m.Definition), m.CreatedBy]));
            return ExitCodes.Ok;
        });

        var removeId = new Argument<string>("monitor") { Description = "Monitor name or id" };
        var remove = new Command("remove", "Remove a monitor; its agents stop running it") { removeId };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var m = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/monitors/" + Shared.Escape(parse.GetValue(removeId)!)), ApiClient.Json.MonitorResponse, ct);
            Console.Out.WriteLine($"Removed monitor {m.Name}.");
            return ExitCodes.Ok;
        });

        return new Command("monitors", "Agent monitors set on the control plane and pushed, signed, to the agents they apply to") { add, list, remove };
    }

    private static T Parse<T>(string text, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string option, string allowed)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize(System.Text.Json.JsonSerializer.Serialize(text), type)!;
        }
        catch (System.Text.Json.JsonException)
        {
            throw new CliException($"{option} '{text}' is not known", "use " + allowed);
        }
    }

    private static string Target(MonitorResponse m) => m.Server ?? (m.Tags is { } t ? "servers tagged " + FleetCommands.FormatTags(t) : "-");

    private static string Watches(MonitorDefinition d) =>
        d.Unit ?? d.Match ?? d.Pidfile ?? (d.Start is { } s ? string.Join(' ', s) : null) ?? d.Url ?? (d.Host is not null ? $"{d.Host}:{d.Port}" : null) ?? d.Mount ?? d.Path
        ?? (d.Command is { } c ? string.Join(' ', c) : null) ?? "-";

    /// <summary>Splits a command line on spaces, keeping quoted parts together (no other shell syntax).</summary>
    internal static List<string> Split(string text)
    {
        var parts = new List<string>();
        var current = new System.Text.StringBuilder();
        char? quote = null;
        var any = false;
        foreach (var ch in text)
        {
            if (quote is not null)
            {
                if (ch == quote) quote = null;
                else current.Append(ch);
            }
            else if (ch is '\'' or '"')
            {
                quote = ch;
                any = true;
            }
            else if (char.IsWhiteSpace(ch))
            {
                if (current.Length > 0 || any) parts.Add(current.ToString());
                current.Clear();
                any = false;
            }
            else
            {
                current.Append(ch);
            }
        }

        if (quote is not null) throw new CliException($"unbalanced quote in '{text}'", "close the quote");
        if (current.Length > 0 || any) parts.Add(current.ToString());
        return parts;
    }
}
