using Medic.Agent.Execution;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Diagnostics;

/// <summary>
/// The curated, read-only diagnostics the agent runs for a <c>diag</c> task. Each verb runs a fixed
/// argv (never a shell) or reads /proc, files and sockets itself; arguments are checked against the
/// verb's parameters before anything runs. Where a verb's tool is missing (no systemd, no journal in
/// a container) it completes with output saying so rather than failing.
/// </summary>
internal static class DiagnosticVerbs
{
    public static IReadOnlyDictionary<string, DiagnosticVerb> All { get; } = new[]
    {
        HostVerbs.SystemSummary,
        HostVerbs.Disk,
        HostVerbs.LargestDirectories,
        DiskUsage.DiskUsageVerb,
        DiskUsage.InodeUsageVerb,
        DeletedOpenFiles.Verb,
        HostVerbs.TopCpu,
        HostVerbs.TopMemory,
        ServiceVerbs.ServiceStatus,
        ServiceVerbs.Journal,
        ServiceVerbs.OomKills,
        FileTail.Verb,
        ListeningPorts.Verb,
        PortHolder.Verb,
        StaleLock.Verb,
        CertInfo.Verb,
        NetworkProbes.TcpProbe,
        NetworkProbes.HttpProbe,
        NetworkProbes.Dns,
        NetworkProbes.TlsExpiry,
        PackageUpdates.Verb,
        ProcessVerbs.Processes,
    }.ToDictionary(v => v.Name, StringComparer.Ordinal);

    public static bool TryValidate(string verb, IReadOnlyDictionary<string, string> args, out string? error) =>
        TryValidate(verb, args, DiagnosticOptions.Default, out error);

    public static bool TryValidate(string verb, IReadOnlyDictionary<string, string> args, DiagnosticOptions options, out string? error)
    {
        error = Bind(verb, args, options, out _, out _);
        return error is null;
    }

    public static Task<ProcessOutcome> RunAsync(
        string verb,
        IReadOnlyDictionary<string, string> args,
        Func<string, string, ValueTask> onOutput,
        CancellationToken ct) =>
        RunAsync(verb, args, DiagnosticOptions.Default, onOutput, ct);

    public static async Task<ProcessOutcome> RunAsync(
        string verb,
        IReadOnlyDictionary<string, string> args,
        DiagnosticOptions options,
        Func<string, string, ValueTask> onOutput,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onOutput);
        var error = Bind(verb, args, options, out var found, out var arguments);
        if (error is not null)
        {
            return new ProcessOutcome(TaskStatus.Refused, null, 0, false, error);
        }
        var run = new VerbRun(arguments!, options, onOutput, ct);
        try
        {
            return await found!.Run(run);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return run.End(TaskStatus.Failed, null, "cancelled before it finished");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A verb's own bug must end as a failed task with its cause, not take the agent's task loop down.
            return run.End(TaskStatus.Failed, null, $"'{verb}' failed: {e.GetType().Name}: {e.Message}");
        }
    }

    private static string? Bind(
        string verb,
        IReadOnlyDictionary<string, string>? args,
        DiagnosticOptions options,
        out DiagnosticVerb? found,
        out VerbArguments? arguments)
    {
        arguments = null;
        if (!All.TryGetValue(verb ?? "", out found))
        {
            return $"unknown diagnostic verb '{verb}'; the verbs are: {string.Join(", ", All.Keys)}";
        }
        args ??= new Dictionary<string, string>();
        var accepted = found.Parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = args.Keys.Where(k => !accepted.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            var takes = accepted.Count == 0 ? "it takes no arguments" : $"it takes: {string.Join(", ", found.Parameters.Select(p => p.Name))}";
            return $"'{verb}' does not take the argument{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}; {takes}";
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var parameter in found.Parameters)
        {
            if (!args.TryGetValue(parameter.Name, out var value) || value is null)
            {
                if (parameter.Required)
                {
                    return $"'{verb}' needs the argument '{parameter.Name}': {parameter.Description}";
                }
                value = parameter.Default!;
            }
            else if (parameter.Check(value, options) is { } problem)
            {
                return $"argument '{parameter.Name}' of '{verb}': {problem}";
            }
            values[parameter.Name] = value;
        }
        arguments = new VerbArguments(values);
        return null;
    }
}
