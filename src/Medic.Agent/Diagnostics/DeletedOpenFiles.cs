using System.Globalization;
using System.Text;

namespace Medic.Agent.Diagnostics;

/// <summary>
/// Files deleted while a process still holds them open: their space is freed only when the last
/// descriptor closes, so df counts it and du does not. Read from /proc/PID/fd links ending " (deleted)".
/// </summary>
internal static class DeletedOpenFiles
{
    private const string DeletedSuffix = " (deleted)";

    public static DiagnosticVerb Verb { get; } = new()
    {
        Name = "deleted-open",
        Description = "Processes holding deleted files open (pid, user, command, fd, size, path), under a path (default /), biggest first.",
        Parameters = [VerbParameter.AbsolutePath("path", "only files that were under this directory (absolute, default /)", "/")],
        Run = async run =>
        {
            var held = Scan(run.Arguments.Text("path"));
            await run.WriteAsync(Describe(held, run.Arguments.Text("path")));
            await Summarize(held).WriteAsync(run);
            return run.Completed();
        },
    };

    internal sealed record Held(ProcessFacts Process, int Fd, string Path, long Bytes);

    /// <summary>Every deleted regular file open under <paramref name="under"/>, one row per process and descriptor.</summary>
    internal static IReadOnlyList<Held> Scan(string under)
    {
        var found = new List<Held>();
        var facts = new Dictionary<int, ProcessFacts?>();
        foreach (var process in Execution.ProcessTree.Snapshot())
        {
            IEnumerable<string> descriptors;
            try
            {
                descriptors = Directory.EnumerateFileSystemEntries($"/proc/{process.Pid}/fd").ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var descriptor in descriptors)
            {
                string? target;
                long bytes;
                try
                {
                    var link = new FileInfo(descriptor);
                    target = link.LinkTarget;
                    if (target is null || !target.EndsWith(DeletedSuffix, StringComparison.Ordinal) || !target.StartsWith('/')
                        || target.StartsWith("/memfd:", StringComparison.Ordinal) || target.StartsWith("/dev/", StringComparison.Ordinal))
                    {
                        continue;
                    }
                    if (FileStat.Size(descriptor) is not { } size)
                    {
                        continue;
                    }
                    bytes = size;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    continue;
                }
                var path = target[..^DeletedSuffix.Length];
                if (under != "/" && !DiagnosticOptions.IsUnder(path, under))
                {
                    continue;
                }
                if (!facts.TryGetValue(process.Pid, out var owner))
                {
                    facts[process.Pid] = owner = ProcessFacts.Read(process.Pid);
                }
                if (owner is not null && int.TryParse(Path.GetFileName(descriptor), NumberStyles.None, CultureInfo.InvariantCulture, out var fd))
                {
                    found.Add(new Held(owner, fd, path, bytes));
                }
            }
        }
        return found.OrderByDescending(h => h.Bytes).ThenBy(h => h.Process.Pid).ToList();
    }

    /// <summary>The bytes these files hold, each file counted once however many processes share it (a forked worker inherits its parent's).</summary>
    internal static long TotalBytes(IReadOnlyList<Held> held) =>
        held.GroupBy(h => (h.Path, h.Bytes)).Sum(g => g.Key.Bytes);

    /// <summary>
    /// The process to act on: the one holding the most, and of processes sharing those files the
    /// eldest (a master rather than its workers), since restarting or truncating there reaches all.
    /// </summary>
    internal static Findings Summarize(IReadOnlyList<Held> held)
    {
        var findings = new Findings().Add("deleted_open_bytes", TotalBytes(held)).Add("deleted_open_files", held.Select(h => h.Path).Distinct().Count());
        if (held.Count == 0)
        {
            return findings;
        }
        var byProcess = held.GroupBy(h => h.Process.Pid).Select(g => (Process: g.First().Process, Bytes: g.Sum(h => h.Bytes), Biggest: g.First())).ToList();
        var top = byProcess.OrderByDescending(p => p.Bytes).ThenBy(p => p.Process.Pid).First();
        var pids = byProcess.Select(p => p.Process.Pid).ToHashSet();
        var chosen = top;
        while (pids.Contains(chosen.Process.ParentPid) && byProcess.First(p => p.Process.Pid == chosen.Process.ParentPid) is var parent
            && parent.Biggest.Path == chosen.Biggest.Path)
        {
            chosen = parent;
        }
        return findings
            .Add("pid", chosen.Process.Pid)
            .Add("process", chosen.Process.Command)
            .Add("user", chosen.Process.User)
            .Add("unit", chosen.Process.Unit)
            .Add("fd", chosen.Biggest.Fd)
            .Add("path", chosen.Biggest.Path)
            .Add("bytes", chosen.Bytes);
    }

    internal static string Describe(IReadOnlyList<Held> held, string under)
    {
        var text = new StringBuilder();
        text.AppendLine($"deleted files still open{(under == "/" ? "" : " under " + under)}: {held.Select(h => h.Path).Distinct().Count()} holding {HostVerbs.HumanSize(TotalBytes(held))}");
        if (held.Count > 0)
        {
            text.AppendLine($"{"pid",7} {"user",-12} {"command",-16} {"fd",5} {"size",8}  path");
        }
        foreach (var h in held.Take(30))
        {
            text.AppendLine($"{h.Process.Pid,7} {Texts(h.Process.User, 12),-12} {Texts(h.Process.Command, 16),-16} {h.Fd,5} {HostVerbs.HumanSize(h.Bytes),8}  {h.Path}{(h.Process.Unit is { } unit ? $"  [{unit}]" : "")}");
        }
        if (held.Count > 30)
        {
            text.AppendLine($"... and {held.Count - 30} more descriptors");
        }
        return text.ToString();
    }

    private static string Texts(string value, int width) => value.Length <= width ? value : value[..width];
}
