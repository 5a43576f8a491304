using System.Globalization;
using System.Text;

namespace Medic.Agent.Diagnostics;

/// <summary>
/// Whether a lock or pid file is stale: the pid written in it, whether that process still lives
/// and is the program the file is for, whether anyone holds a kernel lock on the file (/proc/locks),
/// and its age. Stale only when nothing holds it and its owner is gone.
/// </summary>
internal static class StaleLock
{
    public static DiagnosticVerb Verb { get; } = new()
    {
        Name = "stale-lock",
        Description = "Whether a lock or pid file is stale: the pid inside, whether that process is alive and the expected program, kernel locks on it, its age.",
        Parameters =
        [
            VerbParameter.AbsolutePath("path", "the lock or pid file (absolute)"),
            VerbParameter.Program("program", "the program that should own it, as /proc/PID/comm shows it (default: none; a live owner is then trusted)"),
        ],
        Run = run =>
        {
            var program = run.Arguments.Text("program");
            var (text, findings) = Inspect(run.Arguments.Text("path"), program.Length == 0 ? null : program, DateTime.UtcNow);
            return run.ReportAsync(text, findings);
        },
    };

    internal static (string Text, Findings Findings) Inspect(string path, string? program, DateTime nowUtc)
    {
        var findings = new Findings().Add("lock_file", path);
        var text = new StringBuilder();
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            text.AppendLine($"{path} does not exist (nothing to remove).");
            return (text.ToString(), findings.Add("exists", false).Add("stale", false));
        }
        var age = nowUtc - file.LastWriteTimeUtc;
        findings.Add("exists", true).Add("age_seconds", (long)Math.Max(0, age.TotalSeconds)).Add("age_days", (long)Math.Max(0, age.TotalDays));
        text.AppendLine($"{path}: {file.Length} bytes, last written {HostVerbs.Duration(age < TimeSpan.Zero ? TimeSpan.Zero : age)} ago ({file.LastWriteTimeUtc:yyyy-MM-ddTHH:mm:ssZ})");

        var lockers = KernelLockers(path);
        if (lockers.Count > 0 && !lockers.Any(pid => ProcessFacts.Read(pid)?.Alive == true))
        {
            // /proc/locks names the process that took a flock; it lives on in whoever inherited the descriptor.
            lockers = OpenedBy(path) is { Count: > 0 } holders ? holders : lockers;
        }
        if (lockers.Count > 0)
        {
            var holder = ProcessFacts.Read(lockers[0]);
            text.AppendLine($"held: process {lockers[0]} ({holder?.Command ?? "?"}) holds a kernel lock on it (/proc/locks); it is in use, not stale.");
            return (text.ToString(), findings.Add("locked_by", lockers[0]).Add("owner_pid", lockers[0]).Add("owner_alive", true).Add("owner_process", holder?.Command).Add("stale", false));
        }

        string content;
        try
        {
            content = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            text.AppendLine($"it cannot be read: {e.Message}");
            return (text.ToString(), findings.Add("stale", "unknown"));
        }
        var first = content.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";
        if (!int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
        {
            text.AppendLine("it names no pid and nobody holds a lock on it: whether it is stale depends on the program that made it.");
            return (text.ToString(), findings.Add("stale", "unknown"));
        }
        findings.Add("owner_pid", pid);
        var owner = ProcessFacts.Read(pid);
        if (owner is null || !owner.Alive)
        {
            text.AppendLine($"owner: pid {pid} is {(owner is null ? "not running" : "a zombie (it has exited)")}: the file is stale.");
            return (text.ToString(), findings.Add("owner_alive", false).Add("stale", true));
        }
        findings.Add("owner_alive", true).Add("owner_process", owner.Command).Add("owner_unit", owner.Unit);
        text.AppendLine($"owner: pid {pid} is running: {owner.Command} (user {owner.User}{(owner.Unit is null ? "" : ", unit " + owner.Unit)}): {owner.CommandLine}");
        if (program is not null && !IsProgram(owner, program))
        {
            // The pid was reused: the program that wrote the file is gone and another now has its number.
            text.AppendLine($"that is not {program}: the pid was reused, and the file is stale.");
            return (text.ToString(), findings.Add("owner_expected", false).Add("stale", true));
        }
        text.AppendLine(program is null ? "the owner is alive: not stale." : $"it is {program}: not stale.");
        return (text.ToString(), findings.Add("owner_expected", program is null ? null : "true").Add("stale", false));
    }

    private static bool IsProgram(ProcessFacts process, string program) =>
        process.Command == program
        || Path.GetFileName(process.CommandLine.Split(' ', 2)[0]) == program;

    /// <summary>The pids holding a POSIX, flock or OFD lock on the file's inode, from /proc/locks.</summary>
    internal static IReadOnlyList<int> KernelLockers(string path)
    {
        if (Inode(path) is not { } inode)
        {
            return [];
        }
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/proc/locks");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        var pids = new List<int>();
        foreach (var line in lines)
        {
            // "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; a waiting lock's line has "->" after the number
            var fields = line.Replace("->", "", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 6 && fields[5].Split(':') is { Length: 3 } id
                && long.TryParse(id[2], NumberStyles.None, CultureInfo.InvariantCulture, out var lockedInode) && lockedInode == inode
                && int.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0)
            {
                pids.Add(pid);
            }
        }
        return pids;
    }

    private static long? Inode(string path) => FileStat.Inode(path);

    /// <summary>The processes with a descriptor open on <paramref name="path"/>.</summary>
    private static List<int> OpenedBy(string path)
    {
        var pids = new List<int>();
        foreach (var process in Execution.ProcessTree.Snapshot())
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries($"/proc/{process.Pid}/fd").Any(fd => new FileInfo(fd).LinkTarget == path))
                {
                    pids.Add(process.Pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone, or another user's
            }
        }
        return pids;
    }
}
