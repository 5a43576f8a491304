using System.Globalization;

namespace Medic.Agent.Diagnostics;

/// <summary>What /proc says about one process: its name, owner, command line, systemd unit and working directory.</summary>
internal sealed record ProcessFacts(int Pid, string Command, char State, int ParentPid, string User, string CommandLine, string? Unit, string? WorkingDirectory)
{
    public bool Alive => State is not ('Z' or 'X');

    /// <summary>The process now, or null when it does not exist (or exited while being read).</summary>
    public static ProcessFacts? Read(int pid, string procRoot = "/proc")
    {
        var directory = $"{procRoot}/{pid.ToString(CultureInfo.InvariantCulture)}";
        var stat = Execution.ProcessTree.Read(pid);
        string status;
        try
        {
            status = File.ReadAllText($"{directory}/status");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var uid = StatusField(status, "Uid:")?.Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        var name = stat?.Command ?? StatusField(status, "Name:") ?? "?";
        var state = stat?.State ?? StatusField(status, "State:")?.FirstOrDefault() ?? '?';
        return new ProcessFacts(
            pid,
            name,
            state,
            stat?.ParentPid ?? 0,
            uid is null ? "?" : UserName(uid),
            ReadOrEmpty($"{directory}/cmdline").TrimEnd('\0').Replace('\0', ' '),
            UnitOf(ReadOrEmpty($"{directory}/cgroup")),
            LinkOrNull($"{directory}/cwd"));
    }

    /// <summary>
    /// The systemd service a process runs in, from the last .service segment of its cgroup path
    /// (v2 <c>0::/system.slice/nginx.service</c>, or v1's name=systemd line); null outside one.
    /// </summary>
    internal static string? UnitOf(string cgroup)
    {
        foreach (var line in cgroup.Split('\n'))
        {
            var parts = line.Split(':', 3);
            if (parts.Length < 3 || !(parts[0] == "0" && parts[1].Length == 0 || parts[1] == "name=systemd"))
            {
                continue;
            }
            var unit = parts[2].Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(s => s.EndsWith(".service", StringComparison.Ordinal));
            if (unit is not null)
            {
                return unit;
            }
        }
        return null;
    }

    /// <summary>A uid's name from /etc/passwd, or the number when it has none there.</summary>
    internal static string UserName(string uid)
    {
        foreach (var line in ReadOrEmpty("/etc/passwd").Split('\n'))
        {
            var fields = line.Split(':');
            if (fields.Length > 2 && fields[2] == uid)
            {
                return fields[0];
            }
        }
        return uid;
    }

    private static string? StatusField(string status, string name) =>
        status.Split('\n').FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?[name.Length..].Trim();

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static string? LinkOrNull(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
