using System.Globalization;

namespace Medic.Agent.Host;

/// <summary>The CPU time and resident memory of one process at one moment, from /proc/PID/stat.</summary>
/// <param name="CpuTicks">utime + stime of all its threads, in clock ticks.</param>
/// <param name="StartTicks">When it started, in clock ticks after boot: with the pid, what tells a reused pid apart.</param>
internal readonly record struct ProcessTimes(int Pid, string Command, char State, int ParentPid, ulong CpuTicks, ulong StartTicks, long RssBytes);

/// <summary>Who a process is, as the evidence of a monitor names it (docs/monitors.md).</summary>
internal sealed record ProcessIdentity(int Pid, string Command, string User, string CommandLine, string? Unit, string? WorkingDirectory)
{
    /// <summary>The evidence keys pid, process, user, cmdline and (when known) unit and cwd.</summary>
    public void AddTo(IDictionary<string, string> evidence)
    {
        evidence["pid"] = Pid.ToString(CultureInfo.InvariantCulture);
        evidence["process"] = Command;
        evidence["user"] = User;
        evidence["cmdline"] = CommandLine.Length > 0 ? CommandLine : $"[{Command}]";
        if (Unit is not null) evidence["unit"] = Unit;
        if (WorkingDirectory is not null) evidence["cwd"] = WorkingDirectory;
    }
}

/// <summary>
/// Reads processes out of /proc: their CPU time and memory (<see cref="Times"/>), who they are
/// (<see cref="Identify"/>). Every read tolerates the process exiting half-way: null, not an exception.
/// </summary>
internal static class ProcessSampler
{
    /// <summary>USER_HZ: the unit of the tick counts in /proc/PID/stat; 100 on every Linux architecture Medic runs on.</summary>
    public const double TicksPerSecond = 100;

    private const int CommandLineLimit = 300;
    private static readonly Lazy<Dictionary<int, string>> UserNames = new(ReadUserNames);

    public static ProcessTimes? Times(int pid, string procRoot = "/proc") =>
        Read(Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), "stat")) is { } text ? ParseTimes(text) : null;

    /// <summary>Every process in /proc right now (kernel threads included: they use CPU too).</summary>
    public static List<ProcessTimes> All(string procRoot = "/proc")
    {
        var all = new List<ProcessTimes>();
        IEnumerable<string> directories;
        try
        {
            directories = Directory.EnumerateDirectories(procRoot);
        }
        catch (IOException)
        {
            return all;
        }

        foreach (var directory in directories)
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out _)
                && Read(Path.Combine(directory, "stat")) is { } text
                && ParseTimes(text) is { } times)
            {
                all.Add(times);
            }
        }

        return all;
    }

    /// <summary>Parses "pid (comm) state ppid ... utime(14) stime(15) ... starttime(22) vsize(23) rss(24)"; comm may hold spaces and ')'.</summary>
    internal static ProcessTimes? ParseTimes(string text)
    {
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var close = text.LastIndexOf(')');
        if (open < 0 || close < open || close + 2 >= text.Length) return null;
        var fields = text[(close + 2)..].Split(' ');
        // fields[0] is field 3 (state), so field N is fields[N - 3].
        if (fields.Length < 22
            || !int.TryParse(text.AsSpan(0, open).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !int.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ppid)
            || !ulong.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var utime)
            || !ulong.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var stime)
            || !ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            || !long.TryParse(fields[21], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var rssPages))
        {
            return null;
        }

        return new ProcessTimes(pid, text[(open + 1)..close], fields[0].Length > 0 ? fields[0][0] : '?', ppid, utime + stime, start, Math.Max(0, rssPages) * Environment.SystemPageSize);
    }

    /// <summary>VmRSS from /proc/PID/status in bytes; null when the process is gone (or is a kernel thread, which has none).</summary>
    public static long? ResidentBytes(int pid, string procRoot = "/proc")
    {
        if (Read(Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), "status")) is not { } status) return null;
        foreach (var line in status.Split('\n'))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var parts = line["VmRSS:".Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return parts.Length > 0 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : null;
        }

        return null;
    }

    /// <summary>Who the process is; null when it is gone.</summary>
    public static ProcessIdentity? Identify(int pid, string procRoot = "/proc")
    {
        var dir = Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture));
        if (Read(Path.Combine(dir, "status")) is not { } status) return null;
        string? name = null;
        int? uid = null;
        foreach (var line in status.Split('\n'))
        {
            if (line.StartsWith("Name:", StringComparison.Ordinal)) name = line["Name:".Length..].Trim();
            else if (line.StartsWith("Uid:", StringComparison.Ordinal)
                     && line["Uid:".Length..].Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries) is [var real, ..]
                     && int.TryParse(real, NumberStyles.None, CultureInfo.InvariantCulture, out var u))
            {
                uid = u;
            }
        }

        // comm from stat is exact (status escapes some characters); status is the fallback.
        var command = Times(pid, procRoot)?.Command ?? name ?? "?";
        var cmdline = (Read(Path.Combine(dir, "cmdline")) ?? "").TrimEnd('\0').Replace('\0', ' ').Replace('\n', ' ');
        if (cmdline.Length > CommandLineLimit) cmdline = cmdline[..CommandLineLimit] + "…";
        var user = uid is { } id ? UserNames.Value.GetValueOrDefault(id, id.ToString(CultureInfo.InvariantCulture)) : "?";
        string? cwd = null;
        try
        {
            cwd = new DirectoryInfo(Path.Combine(dir, "cwd")).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another user's process, without CAP_SYS_PTRACE: the rest still names it.
        }

        return new ProcessIdentity(pid, command, user, cmdline, Read(Path.Combine(dir, "cgroup")) is { } cgroup ? UnitOf(cgroup) : null, cwd);
    }

    /// <summary>
    /// The system service a process runs in, from its /proc/PID/cgroup (the v2 line, or v1's
    /// name=systemd): the innermost cgroup when it is a *.service outside user sessions; null for
    /// processes in a session scope, a container scope, or a user's own systemd.
    /// </summary>
    internal static string? UnitOf(string cgroup)
    {
        string? unified = null, legacy = null;
        foreach (var line in cgroup.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("0::", StringComparison.Ordinal)) unified = line[3..].Trim();
            else if (line.Split(':', 3) is [_, "name=systemd", var v1]) legacy = v1.Trim();
        }

        // On a hybrid hierarchy the unified line may be just "/": the systemd one knows the unit.
        var path = unified is null or "/" ? legacy ?? unified : unified;
        if (path is null) return null;
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p.StartsWith("user@", StringComparison.Ordinal))) return null;
        var last = parts[^1];
        return last.EndsWith(".service", StringComparison.Ordinal) ? last : null;
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static Dictionary<int, string> ReadUserNames()
    {
        var names = new Dictionary<int, string>();
        if (Read("/etc/passwd") is not { } passwd) return names;
        foreach (var line in passwd.Split('\n'))
        {
            if (line.Split(':') is [var name, _, var uid, ..] && int.TryParse(uid, NumberStyles.None, CultureInfo.InvariantCulture, out var id)) names.TryAdd(id, name);
        }

        return names;
    }
}

/// <summary>
/// CPU use per process between two samples of the whole process table: what the machine-wide cpu
/// and memory monitors name as the top processes. The first sample (nothing to compare with) uses
/// each process's average since it started.
/// </summary>
internal sealed class ProcessTable(string procRoot = "/proc")
{
    private Dictionary<(int Pid, ulong Start), ulong> _previous = [];
    private long _previousAt;

    /// <summary>One process's share: CPU as % of one core, and resident memory.</summary>
    public readonly record struct Usage(ProcessTimes Times, double CpuPercent);

    public List<Usage> Sample()
    {
        var now = Environment.TickCount64;
        var all = ProcessSampler.All(procRoot);
        var seconds = (now - _previousAt) / 1000.0;
        var uptime = File.Exists(Path.Combine(procRoot, "uptime")) ? ProcParsers.Uptime(File.ReadAllText(Path.Combine(procRoot, "uptime"))) : 0;
        var usage = new List<Usage>(all.Count);
        foreach (var p in all)
        {
            double percent;
            if (_previous.Count > 0 && seconds > 0.05)
            {
                var before = _previous.GetValueOrDefault((p.Pid, p.StartTicks));
                percent = (p.CpuTicks - Math.Min(before, p.CpuTicks)) / ProcessSampler.TicksPerSecond / seconds * 100;
            }
            else
            {
                var age = uptime - p.StartTicks / ProcessSampler.TicksPerSecond;
                percent = age > 0.5 ? p.CpuTicks / ProcessSampler.TicksPerSecond / age * 100 : 0;
            }

            usage.Add(new Usage(p, Math.Round(percent, 1)));
        }

        _previous = all.ToDictionary(p => (p.Pid, p.StartTicks), p => p.CpuTicks);
        _previousAt = now;
        return usage;
    }
}
