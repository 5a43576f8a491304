using System.Globalization;

namespace Medic.Agent.Execution;

/// <summary>
/// Kills everything a task started. The task leads its own session, so one signal to its process
/// group reaches every child that stayed in it; children that called setsid or setpgid are found
/// by walking parent links in /proc before the group dies and are killed one by one.
/// </summary>
internal static class ProcessTree
{
    public static void Kill(int leaderPid)
    {
        // Freeze the group first so nothing forks between the /proc walk and the kill.
        _ = Libc.Kill(-leaderPid, Libc.SIGSTOP);
        var escaped = Descendants(leaderPid);
        _ = Libc.Kill(-leaderPid, Libc.SIGKILL);
        _ = Libc.Kill(leaderPid, Libc.SIGKILL);
        foreach (var pid in escaped)
        {
            _ = Libc.Kill(pid, Libc.SIGKILL);
        }
    }

    /// <summary>Every live process whose chain of parents reaches <paramref name="rootPid"/>.</summary>
    public static IReadOnlyList<int> Descendants(int rootPid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var entry in Snapshot())
        {
            if (!children.TryGetValue(entry.ParentPid, out var list))
            {
                children[entry.ParentPid] = list = [];
            }
            list.Add(entry.Pid);
        }
        var found = new List<int>();
        var pending = new Stack<int>();
        pending.Push(rootPid);
        while (pending.Count > 0 && found.Count < 100_000)
        {
            if (!children.TryGetValue(pending.Pop(), out var list))
            {
                continue;
            }
            foreach (var child in list)
            {
                found.Add(child);
                pending.Push(child);
            }
        }
        return found;
    }

    /// <summary>One line of /proc/PID/stat: the fields Medic needs.</summary>
    internal readonly record struct ProcStat(int Pid, string Command, char State, int ParentPid, int ProcessGroup, int Session);

    /// <summary>All processes visible in /proc right now; ones that vanish while being read are skipped.</summary>
    public static IEnumerable<ProcStat> Snapshot()
    {
        IEnumerable<string> directories;
        try
        {
            directories = Directory.EnumerateDirectories("/proc");
        }
        catch (IOException)
        {
            yield break;
        }
        foreach (var directory in directories)
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            var stat = Read(pid);
            if (stat is not null)
            {
                yield return stat.Value;
            }
        }
    }

    public static ProcStat? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return Parse(text);
    }

    /// <summary>Parses "pid (comm) state ppid pgrp session ..."; comm may itself contain spaces and parentheses.</summary>
    internal static ProcStat? Parse(string text)
    {
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var close = text.LastIndexOf(')');
        if (open < 0 || close < open || close + 2 >= text.Length)
        {
            return null;
        }
        var fields = text[(close + 2)..].Split(' ');
        if (fields.Length < 4
            || !int.TryParse(text.AsSpan(0, open).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !int.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ppid)
            || !int.TryParse(fields[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pgrp)
            || !int.TryParse(fields[3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var session))
        {
            return null;
        }
        return new ProcStat(pid, text[(open + 1)..close], fields[0].Length > 0 ? fields[0][0] : '?', ppid, pgrp, session);
    }
}
