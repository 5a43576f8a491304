using System.Globalization;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Fleet;
using Medic.Server.Gateway;
using Medic.Server.Runbooks;

namespace Medic.Server.Pipeline;

/// <summary>One running process the agent's <c>processes</c> verb found.</summary>
internal sealed record ProcessCandidate(int Pid, string Command, string User, string Ports, string Unit, string WorkingDirectory, string CommandLine)
{
    public override string ToString() =>
        $"pid {Pid} ({Command}, user {User}{(Ports == "-" ? "" : ", port " + Ports)}{(Unit == "-" ? "" : ", unit " + Unit)}{(WorkingDirectory == "-" ? "" : ", cwd " + WorkingDirectory)}: {Texts.Truncate(CommandLine, 160)})";
}

/// <summary>What the targeting decided: the parameters to run with, and the evidence of which instance they name.</summary>
internal sealed record TargetedParameters(IReadOnlyDictionary<string, string> Values, IReadOnlyDictionary<string, string> Evidence);

/// <summary>
/// Ties a process remediation to the instance the incident is about. A recipe with a <c>pid</c>
/// parameter is pinned to the one running process that everything the evidence names holds for
/// (pid, port, unit, command line, working directory, program); a recipe with a <c>unit</c>
/// parameter is refused when the process the evidence names belongs to another unit. When the
/// evidence names several processes, or none, nothing runs: the proposal is refused with the
/// candidates listed, and the pipeline escalates with them.
/// </summary>
internal sealed class ProcessTargeting(TaskDispatcher dispatcher)
{
    private const int VerbTimeoutSeconds = 20;

    public async Task<TargetedParameters> PinAsync(IncidentResponse incident, NodeRow server, Runbook runbook, IReadOnlyDictionary<string, string> values, CancellationToken ct)
    {
        var byPid = runbook.Parameter("pid") is not null;
        var byUnit = runbook.Parameter("unit") is not null;
        if (!byPid && !byUnit) return new TargetedParameters(values, new Dictionary<string, string>());
        var evidence = Selectors.From(incident, values);
        return byPid ? await PinPidAsync(incident.Id, server, runbook, values, evidence, ct) : await CheckUnitAsync(server, values, evidence, ct);
    }

    private async Task<TargetedParameters> PinPidAsync(string incidentId, NodeRow server, Runbook runbook, IReadOnlyDictionary<string, string> values, Selectors selectors, CancellationToken ct)
    {
        var name = values.GetValueOrDefault("process") is { Length: > 0 } p ? p : selectors.Process;
        IReadOnlyList<ProcessCandidate> found = [];
        var asked = "";

        // A pid in the evidence is the surest name for the instance, if it is still that program.
        if (selectors.Pid is { } pid)
        {
            asked = Describe(("pid", pid), ("name", name));
            found = await FindAsync(server, Args(("pid", pid), ("name", name)), ct);
        }

        if (found.Count == 0)
        {
            if (!string.IsNullOrEmpty(values.GetValueOrDefault("pid")))
            {
                throw Refusal($"process {values["pid"]} is not a running {name ?? "process"} on {server.Name}", "check the pid with medic diag processes, then propose the recipe again");
            }

            var args = Args(("name", name), ("port", selectors.Port), ("unit", selectors.Unit), ("cmdline", selectors.CommandLine), ("cwd", selectors.WorkingDirectory));
            if (args.Count == 0)
            {
                throw Refusal("the incident names no process (no pid, port, unit, command line or program in its evidence or labels)", "propose the recipe with --param pid=N for the process to act on");
            }

            asked = Describe(args.Select(a => (a.Key, (string?)a.Value)).ToArray());
            found = await FindAsync(server, args, ct);
        }

        if (found.Count == 0) throw Refusal($"no running process on {server.Name} matches {asked}", "look with medic diag processes on the server; a process that is gone needs its service started, not this recipe");
        if (found.Count > 1)
        {
            throw Refusal($"{found.Count} processes on {server.Name} match {asked}, and the evidence does not say which one is broken: {string.Join("; ", found.Take(10))}",
                $"propose the recipe for the broken one: medic incidents propose {incidentId} {runbook.Name} --param pid=N");
        }

        var target = found[0];
        var pinned = new Dictionary<string, string>(values, StringComparer.Ordinal) { ["pid"] = target.Pid.ToString(CultureInfo.InvariantCulture) };
        if (string.IsNullOrEmpty(values.GetValueOrDefault("process")) && runbook.Parameter("process") is not null) pinned["process"] = target.Command;
        if (runbook.Parameter("port") is not null && string.IsNullOrEmpty(values.GetValueOrDefault("port")) && selectors.Port is { } port) pinned["port"] = port;
        return new TargetedParameters(pinned, Evidence(target, asked));
    }

    private async Task<TargetedParameters> CheckUnitAsync(NodeRow server, IReadOnlyDictionary<string, string> values, Selectors selectors, CancellationToken ct)
    {
        var unit = values.GetValueOrDefault("unit");
        if (string.IsNullOrEmpty(unit) || (selectors.Port is null && selectors.Pid is null) || server.IsAgentless) return new TargetedParameters(values, new Dictionary<string, string>());

        // The evidence names a process (by port or pid): it must be that unit's, or the restart would hit another instance.
        var args = selectors.Pid is { } pid ? Args(("pid", pid)) : Args(("port", selectors.Port));
        var found = await FindAsync(server, args, ct, required: false);
        var units = found.Select(f => f.Unit).Where(u => u != "-").Distinct(StringComparer.Ordinal).ToList();
        var asked = Describe(args.Select(a => (a.Key, (string?)a.Value)).ToArray());
        if (units.Count == 0) return new TargetedParameters(values, new Dictionary<string, string>()); // gone, or not under systemd: the unit is all there is
        if (units.Count > 1) throw Refusal($"the processes matching {asked} on {server.Name} belong to several units ({string.Join(", ", units)})", "propose restart-service with --param unit=UNIT for the broken one");
        if (!SameUnit(unit, units[0]))
        {
            throw Refusal($"the process matching {asked} on {server.Name} belongs to {units[0]}, not {unit}: restarting {unit} would not touch it",
                $"propose restart-service with --param unit={units[0]}, or correct the triage rule");
        }

        return new TargetedParameters(values, Evidence(found[0], asked));
    }

    private static bool SameUnit(string wanted, string unit) => unit == wanted || unit == wanted + ".service";

    private async Task<IReadOnlyList<ProcessCandidate>> FindAsync(NodeRow server, IReadOnlyDictionary<string, string> args, CancellationToken ct, bool required = true)
    {
        var result = await dispatcher.RunAsync(server, TaskKind.Diag, [], "processes", args, VerbTimeoutSeconds, null, ct);
        if (result.Status != TaskRunStatus.Completed || result.ExitCode != 0)
        {
            if (!required) return [];
            throw Refusal($"cannot tell which process on {server.Name} the incident is about: the processes check {result.Status.ToText()}{(result.Reason is { Length: > 0 } r ? ": " + r : "")}",
                "propose the recipe again when the server's agent is connected");
        }

        return Parse(result.Stdout);
    }

    /// <summary>The verb's tab-separated <c>candidate</c> lines: pid, command, user, ports, unit, cwd, command line.</summary>
    internal static IReadOnlyList<ProcessCandidate> Parse(string output)
    {
        var found = new List<ProcessCandidate>();
        foreach (var line in output.Split('\n'))
        {
            var f = line.TrimEnd('\r').Split('\t', 8);
            if (f.Length == 8 && f[0] == "candidate" && int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                found.Add(new ProcessCandidate(pid, f[2], f[3], f[4], f[5], f[6], f[7]));
            }
        }

        return found;
    }

    private static Dictionary<string, string> Evidence(ProcessCandidate target, string asked) => new(StringComparer.Ordinal)
    {
        ["target.pid"] = target.Pid.ToString(CultureInfo.InvariantCulture),
        ["target.process"] = target.Command,
        ["target.user"] = target.User,
        ["target.ports"] = target.Ports,
        ["target.unit"] = target.Unit,
        ["target.cmdline"] = Texts.Truncate(target.CommandLine, 500),
        ["target.selected_by"] = asked,
    };

    private static Dictionary<string, string> Args(params (string Key, string? Value)[] pairs) =>
        pairs.Where(p => !string.IsNullOrEmpty(p.Value)).ToDictionary(p => p.Key, p => p.Value!, StringComparer.Ordinal);

    private static string Describe(params (string Key, string? Value)[] pairs) =>
        string.Join(" ", pairs.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Key}={p.Value}"));

    private static ProposalException Refusal(string message, string remedy) => new("Refused to pick a process: " + message + ".", remedy, StatusCodes.Status409Conflict);

    /// <summary>What the incident says about the process it is about: its evidence first, then its labels.</summary>
    private sealed record Selectors(string? Process, string? Pid, string? Port, string? Unit, string? CommandLine, string? WorkingDirectory)
    {
        public static Selectors From(IncidentResponse incident, IReadOnlyDictionary<string, string> values)
        {
            string? Get(params string[] keys)
            {
                foreach (var key in keys)
                {
                    if (incident.Evidence?.GetValueOrDefault(key) is { Length: > 0 } e) return e;
                    if (incident.Labels.GetValueOrDefault(key) is { Length: > 0 } l) return l;
                }

                return null;
            }

            var pid = values.GetValueOrDefault("pid") is { Length: > 0 } given ? given : Get("pid");
            var port = values.GetValueOrDefault("port") is { Length: > 0 } p ? p : Get("port") ?? PortOf(Get("url", "instance", "target", "address"));
            return new Selectors(
                Get("process"),
                int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 1 ? pid : null,
                int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var q) && q is >= 1 and <= 65535 ? port : null,
                Get("unit"),
                Get("cmdline"),
                Get("cwd"));
        }

        /// <summary>The port of a URL or a host:port (an Alertmanager instance, a blackbox target, a tcp monitor's address).</summary>
        private static string? PortOf(string? where)
        {
            if (where is null) return null;
            if (Uri.TryCreate(where, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "tcp") return uri.Port.ToString(CultureInfo.InvariantCulture);
            var colon = where.LastIndexOf(':');
            return colon > 0 && int.TryParse(where.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port.ToString(CultureInfo.InvariantCulture) : null;
        }
    }
}
