using System.Globalization;
using System.Text.RegularExpressions;
using Medic.Agent.Diagnostics;
using Medic.Contracts.Agent;

namespace Medic.Agent.Monitors;

/// <summary>
/// What a service that would not stay up most likely tripped over, for the give-up evidence: the
/// most telling of its own last log lines (a specific error such as "address already in use" or
/// "permission denied" over a generic "error"; the most recent among equals), and, when the port
/// it wants is taken, the process holding that port.
/// </summary>
internal static partial class LikelyCause
{
    public const string Key = "likely_cause";
    public const string PortHolder = "port_holder";
    public const string PortHolderPid = "port_holder_pid";
    public const string PortHolderCommandLine = "port_holder_cmdline";
    public const string PortInUse = "port_in_use";

    /// <summary>A lock or pid file the service's own output names (it exists now): triage checks whether its owner is gone.</summary>
    public const string LockFile = "lock_file";
    private const int MaxChars = 400;

    [GeneratedRegex(@"address already in use|eaddrinuse|permission denied|eacces|no such file|not found|syntax|parse error|unexpected (token|end|character)|invalid|denied|refused|out of memory|cannot allocate|too many open files|read-only file system|no space left|missing|undefined|unknown (option|directive|variable|key)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Specific();

    [GeneratedRegex(@"\b(fatal|error|errors|failed|failure|exception|panic|cannot|can't|unable|could not|abort(ed)?|critical|emerg)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Generic();

    [GeneratedRegex(@"address already in use|eaddrinuse", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AddressInUse();

    [GeneratedRegex(@"(?:[:\s]|port\s*=?\s*)(\d{1,5})\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PortNumber();

    // Lines the supervisor wrote about the service, not the service itself: "[medic] pid 12 exited", "systemd[1]: x.service: Failed with result".
    [GeneratedRegex(@"^\[medic\] |\ssystemd\[1\]: ", RegexOptions.CultureInvariant)]
    private static partial Regex Supervisor();

    // A journal line's "2026-12-07T15:00:00+0000 host app[123]: " or a supervised child's "[stderr] ".
    [GeneratedRegex(@"^(\d{4}-\d\d-\d\dT\S+ \S+ [^:\s]+: |\[stderr\] )", RegexOptions.CultureInvariant)]
    private static partial Regex Prefix();

    /// <summary>The one or two most telling lines, or null when none looks like an error.</summary>
    public static string? Pick(string lastLines)
    {
        var scored = lastLines.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !Supervisor().IsMatch(l))
            .Select(l => Prefix().Replace(l, "", 1).Trim())
            .Select((line, index) => (Line: line, Index: index, Score: Specific().IsMatch(line) ? 2 : Generic().IsMatch(line) ? 1 : 0))
            .Where(l => l.Score > 0)
            .ToList();
        if (scored.Count == 0) return null;
        var picked = scored.OrderByDescending(l => l.Score).ThenByDescending(l => l.Index)
            .Select(l => l.Line).Distinct(StringComparer.Ordinal).Take(2).ToList();
        var text = string.Join(" | ", picked);
        return text.Length <= MaxChars ? text : text[..MaxChars] + "…";
    }

    /// <summary>
    /// Adds <c>likely_cause</c> from <paramref name="lastLines"/> and, when they (or the exit) say the
    /// address is in use, who holds the port: from the line itself or the monitor's health check.
    /// </summary>
    public static void AddTo(Dictionary<string, string> evidence, string lastLines, MonitorDefinition definition)
    {
        var cause = Pick(lastLines);
        if (cause is not null) evidence[Key] = cause;
        if (LockFileIn(lastLines) is { } lockFile) evidence[LockFile] = lockFile;
        var inUse = lastLines.Split('\n').Where(l => AddressInUse().IsMatch(l)).Select(l => Prefix().Replace(l.Trim(), "", 1)).ToList();
        if (inUse.Count == 0) return;
        var ports = inUse.SelectMany(l => PortNumber().Matches(l).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)))
            .Concat(HealthPort(definition) is { } p ? [p] : [])
            .Where(p => p is >= 1 and <= 65535)
            .Distinct()
            .ToList();
        if (ports.Count == 0) return;
        IReadOnlyList<ListeningPorts.Listener> listeners;
        try
        {
            listeners = ListeningPorts.FromProc();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (var port in ports)
        {
            if (listeners.FirstOrDefault(l => l.Port == port && l.Process is not null) is not { } holder) continue;
            evidence[PortInUse] = port.ToString(CultureInfo.InvariantCulture);
            evidence[PortHolder] = holder.Process!;
            if (HolderPid().Match(holder.Process!) is { Success: true } pid)
            {
                evidence[PortHolderPid] = pid.Groups[1].Value;
                if (ProcessTarget.CommandLine(int.Parse(pid.Groups[1].Value, CultureInfo.InvariantCulture)) is { Length: > 0 } commandLine)
                {
                    evidence[PortHolderCommandLine] = commandLine.Length <= MaxChars ? commandLine : commandLine[..MaxChars] + "…";
                }
            }

            evidence[Key] = $"port {port} is already held by {holder.Process}" + (cause is null ? "" : $": {cause}");
            return;
        }
    }

    // An absolute path in a line about a lock or pid file: "lock file /run/x.pid exists", "could not lock /var/lib/x/LOCK".
    [GeneratedRegex(@"(?<path>/[^\s'"":,;()\[\]]+)", RegexOptions.CultureInvariant)]
    private static partial Regex AbsolutePath();

    [GeneratedRegex(@"\block|\bpid ?file|\.pid\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AboutALock();

    /// <summary>The newest line about a lock or pid file that names one that exists: its path, or null.</summary>
    internal static string? LockFileIn(string lastLines)
    {
        foreach (var line in lastLines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Reverse().Where(l => !Supervisor().IsMatch(l) && AboutALock().IsMatch(l)))
        {
            foreach (Match m in AbsolutePath().Matches(Prefix().Replace(line.Trim(), "", 1)))
            {
                var path = m.Groups["path"].Value.TrimEnd('.');
                var name = Path.GetFileName(path);
                var lockish = name.EndsWith(".pid", StringComparison.Ordinal) || name.EndsWith(".lock", StringComparison.Ordinal) || name.EndsWith(".lck", StringComparison.Ordinal)
                    || name.Contains("lock", StringComparison.OrdinalIgnoreCase);
                if (lockish && File.Exists(path)) return path;
            }
        }

        return null;
    }

    [GeneratedRegex(@"\(pid (\d+)\)$", RegexOptions.CultureInvariant)]
    private static partial Regex HolderPid();

    private static int? HealthPort(MonitorDefinition definition)
    {
        if (definition.Health?.Tcp is { } tcp && MonitorFile.TryHostPort(tcp, out _, out var port)) return port;
        return definition.Health?.Http is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Port : null;
    }
}
