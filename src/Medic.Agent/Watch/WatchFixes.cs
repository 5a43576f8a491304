using System.Globalization;
using System.Text.RegularExpressions;
using Medic.Agent.Diagnostics;
using Medic.Agent.Execution;
using Medic.Contracts.Agent;

namespace Medic.Agent.Watch;

/// <summary>A fix the model proposed: a built-in recipe's name, its parameters and why.</summary>
internal sealed record FixProposal(string Recipe, IReadOnlyDictionary<string, string> Parameters, string Rationale)
{
    public override string ToString() =>
        $"{Recipe}({string.Join(", ", Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))})";
}

/// <summary>What applying a fix did: whether it acted (its precondition held) and what it saw or did.</summary>
internal sealed record FixApplied(bool Acted, string Text);

/// <summary>
/// The built-in recipes <c>medic watch</c> can run itself, with no control plane, and only when the
/// watch file's <c>ai.allow</c> names them. Each takes the parameters of its recipe in
/// src/Medic.Server/Runbooks/Library (restart_unit excepted: the ladder restarts the monitor's own
/// process afterwards), checks its precondition again right before acting, and acts with the
/// agent's own code (no shell): remove a lock file the stale-lock check proves stale, stop the
/// stray process holding the monitor's port, or have the ladder restart the monitor's process once more.
/// </summary>
internal static partial class WatchFixes
{
    public const string RemoveStaleLock = "remove-stale-lock";
    public const string FreePort = "free-port";
    public const string RestartProcess = "restart-process";

    public static IReadOnlyList<string> Names { get; } = [RemoveStaleLock, FreePort, RestartProcess];

    /// <summary>For the model: what each fix does and takes.</summary>
    public static string Catalog(MonitorDefinition monitor) =>
        $"{RemoveStaleLock}(path, owner_pid, program?): remove a lock or pid file (*.pid, *.lock, *.lck, LOCK, lock, lockfile; not under a system directory) whose owner pid is gone, as the stale-lock verb showed; re-checked before removal.\n"
        + $"{FreePort}(port, holder_pid, holder_process): stop (TERM, then KILL after 10 s) the stray process, not a systemd service, that holds a TCP port this monitor needs ({(Ports(monitor) is { Count: > 0 } ports ? string.Join(", ", ports) : "this monitor names no port, so not here")}), as the port-holder verb showed.\n"
        + $"{RestartProcess}(process, pid?, port?, signal?): restart the monitor's own process once more through its self-healing ladder.\n"
        + "After a fix the ladder restarts the monitor's process and checks its health.";

    /// <summary>Why the parameters do not fit <paramref name="recipe"/> (one this rung runs), or null when they do.</summary>
    public static string? Validate(string recipe, IReadOnlyDictionary<string, string> p, MonitorDefinition monitor)
    {
        string? Unknown(params string[] known) =>
            p.Keys.FirstOrDefault(k => !known.Contains(k, StringComparer.Ordinal)) is { } extra
                ? $"'{recipe}' does not take '{extra}'; it takes: {string.Join(", ", known)}"
                : null;

        switch (recipe)
        {
            case RemoveStaleLock:
                return Unknown("path", "owner_pid", "program", "restart_unit")
                    ?? Required(p, "path", v => LockPathPattern().IsMatch(v) ? null : "is not a lock or pid file (*.pid, *.lock, *.lck, LOCK, lock or lockfile) outside the system directories")
                    ?? Required(p, "owner_pid", v => Int(v, 1, 4194304))
                    ?? Optional(p, "program", v => ProgramPattern().IsMatch(v) ? null : "is not a program name as /proc/PID/comm shows it")
                    ?? NoUnit(p);
            case FreePort:
                return Unknown("port", "holder_pid", "holder_process", "restart_unit")
                    ?? Required(p, "port", v => Int(v, 1, 65535) ?? (Ports(monitor).Contains(int.Parse(v, CultureInfo.InvariantCulture)) ? null : $"is not a port monitor '{monitor.Name}' needs ({(Ports(monitor) is { Count: > 0 } ports ? string.Join(", ", ports) : "it names none")})"))
                    ?? Required(p, "holder_pid", v => Int(v, 2, 4194304))
                    ?? Required(p, "holder_process", v => CommPattern().IsMatch(v) ? null : "is not a program name as ps -o comm shows it")
                    ?? NoUnit(p);
            case RestartProcess:
                return Unknown("process", "pid", "port", "signal")
                    ?? Required(p, "process", v => ProgramPattern().IsMatch(v) ? null : "is not a program name")
                    ?? Optional(p, "pid", v => Int(v, 2, 4194304))
                    ?? Optional(p, "port", v => Int(v, 1, 65535))
                    ?? Optional(p, "signal", v => v is "TERM" or "INT" or "QUIT" ? null : "must be TERM, INT or QUIT");
            default:
                return null;
        }
    }

    /// <summary>Checks the precondition again and acts; the caller then has the ladder restart the process.</summary>
    public static async Task<FixApplied> ApplyAsync(FixProposal fix, CancellationToken ct)
    {
        var p = fix.Parameters;
        switch (fix.Recipe)
        {
            case RemoveStaleLock:
            {
                var path = p["path"];
                var (text, findings) = StaleLock.Inspect(path, p.GetValueOrDefault("program") is { Length: > 0 } program ? program : null, DateTime.UtcNow);
                if (findings["exists"] == "false") return new FixApplied(true, $"{path} is already gone");
                if (findings["owner_pid"] != p["owner_pid"]) return new FixApplied(false, $"{path} now names pid {findings["owner_pid"] ?? "none"}, not {p["owner_pid"]}: left alone");
                if (findings["stale"] != "true") return new FixApplied(false, $"{path} is not stale now: {text.Trim()}");
                File.Delete(path);
                return new FixApplied(true, $"removed {path} (pid {p["owner_pid"]} is gone and nobody holds a lock on it)");
            }

            case FreePort:
            {
                var port = int.Parse(p["port"], CultureInfo.InvariantCulture);
                var pid = int.Parse(p["holder_pid"], CultureInfo.InvariantCulture);
                var (_, findings) = PortHolder.Describe(port);
                if (findings["pid"] != p["holder_pid"]) return new FixApplied(false, $"port {port} is now held by {findings["pid"] ?? "nobody"}, not {pid}: left alone");
                if (findings["process"] != p["holder_process"]) return new FixApplied(false, $"process {pid} is {findings["process"]}, not {p["holder_process"]}: left alone");
                if (findings["unit"] is { } unit) return new FixApplied(false, $"process {pid} runs in {unit}: not a stray process (two services wanting one port is a person's decision)");
                if (pid == Environment.ProcessId) return new FixApplied(false, "that is medic watch itself: left alone");
                _ = Libc.Kill(pid, Libc.SIGTERM);
                for (var i = 0; i < 100 && ProcessFacts.Read(pid)?.Alive == true; i++) await Task.Delay(100, ct);
                if (ProcessFacts.Read(pid)?.Alive != true) return new FixApplied(true, $"stopped process {pid} ({p["holder_process"]}), which held port {port}");
                _ = Libc.Kill(pid, Libc.SIGKILL);
                return new FixApplied(true, $"process {pid} ({p["holder_process"]}) still ran 10 s after SIGTERM: sent SIGKILL");
            }

            case RestartProcess:
                return new FixApplied(true, "asked the ladder to restart it once more");
            default:
                return new FixApplied(false, $"medic watch cannot run '{fix.Recipe}'");
        }
    }

    /// <summary>The TCP ports the monitor's health check names: the only ones free-port may free here.</summary>
    internal static IReadOnlyList<int> Ports(MonitorDefinition monitor)
    {
        var ports = new List<int>();
        if (monitor.Health?.Http is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri)) ports.Add(uri.Port);
        if (monitor.Health?.Tcp is { } tcp && tcp.LastIndexOf(':') is var colon and > 0
            && int.TryParse(tcp[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)) ports.Add(port);
        if (monitor.Port is { } own) ports.Add(own);
        return ports.Distinct().ToList();
    }

    private static string? Required(IReadOnlyDictionary<string, string> p, string key, Func<string, string?> check) =>
        p.TryGetValue(key, out var value) && value.Length > 0
            ? check(value) is { } problem ? $"'{key}' ({Shorten(value)}) {problem}" : null
            : $"'{key}' is required";

    private static string? Optional(IReadOnlyDictionary<string, string> p, string key, Func<string, string?> check) =>
        p.TryGetValue(key, out var value) && value.Length > 0 && check(value) is { } problem ? $"'{key}' ({Shorten(value)}) {problem}" : null;

    private static string? NoUnit(IReadOnlyDictionary<string, string> p) =>
        p.GetValueOrDefault("restart_unit") is { Length: > 0 } ? "'restart_unit' must be empty here: medic watch's ladder restarts the monitor's own process after the fix" : null;

    private static string? Int(string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max ? null : $"is not a whole number from {min} to {max}";

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..80] + "…";

    // The library's remove-stale-lock pattern, anchored.
    [GeneratedRegex(@"^(?!/(bin|boot|dev|etc|lib|lib32|lib64|libx32|proc|sbin|sys|usr)/)(?!.*//)(?!(.*/)?\.\.?(/|$))(/[A-Za-z0-9._@-]+)*/([A-Za-z0-9._@-]+\.(pid|lock|lck)|LOCK|lock|lockfile)\z")]
    private static partial Regex LockPathPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,63}\z")]
    private static partial Regex ProgramPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,14}\z")]
    private static partial Regex CommPattern();
}
