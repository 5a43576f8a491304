using System.Globalization;
using System.Text;
using Medic.Agent.Execution;

namespace Medic.Agent.Diagnostics;

/// <summary>One running process as the targeting of a remediation sees it.</summary>
internal sealed record ProcessDetails(int Pid, string Command, string User, IReadOnlyList<int> Ports, string? Unit, string? WorkingDirectory, string CommandLine);

/// <summary>
/// Which running processes an incident's evidence names: by program name, pid, listening port,
/// systemd unit, a piece of the command line or the working directory, all given ones at once.
/// The control plane uses it to pin a process remediation to one instance and to refuse when
/// several match (two instances of one program, one per port).
/// </summary>
internal static class ProcessVerbs
{
    private const int MaxShown = 50;

    public static DiagnosticVerb Processes { get; } = new()
    {
        Name = "processes",
        Description = "Processes matching every given selector (name, pid, port, unit, cmdline, cwd): pid, user, unit, listening ports, working directory, command line.",
        Parameters =
        [
            VerbParameter.OptionalText("name", "the program name as ps -o comm shows it, or the file name of its executable or first argument", 255),
            VerbParameter.OptionalInteger("pid", "the process id", 1, 4194304),
            VerbParameter.OptionalInteger("port", "a TCP port the process listens on", 1, 65535),
            VerbParameter.OptionalText("unit", "the systemd unit the process belongs to, e.g. shop@8081.service", 256),
            VerbParameter.OptionalText("cmdline", "text the command line contains", 512),
            VerbParameter.OptionalText("cwd", "the working directory", 4096),
        ],
        Run = RunAsync,
    };

    /// <summary>The selectors as the verb reads them; empty strings and null mean "not given".</summary>
    internal sealed record Selector(string? Name, int? Pid, int? Port, string? Unit, string? CommandLine, string? WorkingDirectory)
    {
        public bool IsEmpty => Name is null && Pid is null && Port is null && Unit is null && CommandLine is null && WorkingDirectory is null;

        public override string ToString() => string.Join(" ", new[]
        {
            Name is null ? null : $"name={Name}", Pid is null ? null : $"pid={Pid}", Port is null ? null : $"port={Port}",
            Unit is null ? null : $"unit={Unit}", CommandLine is null ? null : $"cmdline={CommandLine}", WorkingDirectory is null ? null : $"cwd={WorkingDirectory}",
        }.OfType<string>());
    }

    private static async Task<ProcessOutcome> RunAsync(VerbRun run)
    {
        var a = run.Arguments;
        static string? Given(string value) => value.Length == 0 ? null : value;
        static int? Number(string value) => value.Length == 0 ? null : int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
        var selector = new Selector(Given(a.Text("name")), Number(a.Text("pid")), Number(a.Text("port")), Given(a.Text("unit")), Given(a.Text("cmdline")), Given(a.Text("cwd")));
        if (selector.IsEmpty)
        {
            await run.WriteLineAsync("Give at least one of name, pid, port, unit, cmdline, cwd.");
            return run.Completed(exitCode: 2, reason: "no selector given");
        }

        var found = Find(selector);
        await run.WriteAsync(Describe(selector, found));
        return run.Completed();
    }

    /// <summary>
    /// The table people read, then one tab-separated <c>candidate</c> line per process (the command line
    /// last) and <c>finding matches=N</c> (with <c>finding pid=</c> when exactly one matches), which
    /// triage reads.
    /// </summary>
    internal static string Describe(Selector selector, IReadOnlyList<ProcessDetails> found)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"processes matching {selector}: {found.Count}\n");
        foreach (var p in found.Take(MaxShown))
        {
            var ports = p.Ports.Count == 0 ? "-" : string.Join(",", p.Ports);
            text.Append(CultureInfo.InvariantCulture, $"candidate\t{p.Pid}\t{Clean(p.Command)}\t{Clean(p.User)}\t{ports}\t{Clean(p.Unit ?? "-")}\t{Clean(p.WorkingDirectory ?? "-")}\t{Clean(p.CommandLine)}\n");
        }

        if (found.Count > MaxShown) text.Append(CultureInfo.InvariantCulture, $"({found.Count - MaxShown} more not shown)\n");
        text.Append(CultureInfo.InvariantCulture, $"finding matches={found.Count}\n");
        if (found.Count == 1) text.Append(CultureInfo.InvariantCulture, $"finding pid={found[0].Pid}\n");
        return text.ToString();
    }

    private static string Clean(string value) => value.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');

    /// <summary>Every live process (not the agent itself, no zombies, no kernel threads) that all given selectors hold for.</summary>
    internal static IReadOnlyList<ProcessDetails> Find(Selector selector)
    {
        var self = Environment.ProcessId;
        var sockets = ListeningSockets();
        var listening = selector.Port is null ? null : sockets.Where(l => l.Port == selector.Port).Select(l => l.Inode).ToHashSet();
        var found = new List<ProcessDetails>();
        foreach (var stat in ProcessTree.Snapshot())
        {
            if (stat.Pid == self || stat.State == 'Z') continue;
            if (selector.Pid is { } pid && stat.Pid != pid) continue;
            var commandLine = ReadCommandLine(stat.Pid);
            if (commandLine.Length == 0) continue; // a kernel thread
            if (selector.Name is { } name && !NameMatches(name, stat.Command, commandLine)) continue;
            if (selector.CommandLine is { } part && !commandLine.Contains(part, StringComparison.Ordinal)) continue;
            var unit = Unit(stat.Pid);
            if (selector.Unit is { } wanted && !SameUnit(wanted, unit)) continue;
            var cwd = WorkingDirectory(stat.Pid);
            if (selector.WorkingDirectory is { } dir && !string.Equals(dir.TrimEnd('/'), cwd?.TrimEnd('/'), StringComparison.Ordinal)) continue;
            var owned = SocketInodes(stat.Pid);
            if (listening is not null && !owned.Overlaps(listening)) continue;
            var ports = sockets.Where(l => owned.Contains(l.Inode)).Select(l => l.Port).Distinct().Order().ToList();
            found.Add(new ProcessDetails(stat.Pid, stat.Command, User(stat.Pid), ports, unit, cwd, commandLine));
        }

        // A forking server's workers share its port: when the selector named a port, the processes whose parent also matched are one instance.
        if (selector.Port is not null && found.Count > 1)
        {
            var pids = found.Select(p => p.Pid).ToHashSet();
            var roots = found.Where(p => ProcessTree.Read(p.Pid) is not { } s || !pids.Contains(s.ParentPid)).ToList();
            if (roots.Count >= 1) found = roots;
        }

        return found;
    }

    /// <summary>The name is the kernel's comm (15 characters), the executable's file name, or the first argument's (for an interpreter's script or a .NET dll).</summary>
    internal static bool NameMatches(string name, string comm, string commandLine)
    {
        if (comm == name || (name.Length > 15 && comm == name[..15])) return true;
        var args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return args.Take(2).Any(arg => Path.GetFileName(arg) == name || Path.GetFileNameWithoutExtension(arg) == name);
    }

    private static bool SameUnit(string wanted, string? unit) =>
        unit is not null && (unit == wanted || unit == wanted + ".service");

    internal static string ReadCommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>The systemd unit from /proc/PID/cgroup: the innermost .service (else .scope) of the unified or name=systemd hierarchy.</summary>
    internal static string? Unit(int pid)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{pid}/cgroup");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return UnitFromCgroup(lines);
    }

    internal static string? UnitFromCgroup(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3 || !(parts[1].Length == 0 || parts[1] == "name=systemd")) continue;
            var segments = parts[2].Split('/', StringSplitOptions.RemoveEmptyEntries);
            var unit = segments.LastOrDefault(s => s.EndsWith(".service", StringComparison.Ordinal))
                ?? segments.LastOrDefault(s => s.EndsWith(".scope", StringComparison.Ordinal));
            if (unit is not null) return unit;
        }

        return null;
    }

    private static string? WorkingDirectory(int pid)
    {
        try
        {
            return new DirectoryInfo($"/proc/{pid}/cwd").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string User(int pid)
    {
        try
        {
            var uid = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?
                .Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1);
            return uid is null ? "?" : UserName(uid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }

    private static string UserName(string uid)
    {
        try
        {
            foreach (var line in File.ReadLines("/etc/passwd"))
            {
                var fields = line.Split(':');
                if (fields.Length > 2 && fields[2] == uid) return fields[0];
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return uid;
    }

    private static HashSet<long> SocketInodes(int pid)
    {
        var inodes = new HashSet<long>();
        IEnumerable<string> descriptors;
        try
        {
            descriptors = Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return inodes;
        }

        foreach (var descriptor in descriptors)
        {
            try
            {
                if (new FileInfo(descriptor).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal)
                    && long.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
                {
                    inodes.Add(inode);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return inodes;
    }

    /// <summary>The listening TCP sockets of /proc/net/tcp and tcp6, without looking up their owners.</summary>
    private static List<ListeningPorts.Listener> ListeningSockets()
    {
        var sockets = new List<ListeningPorts.Listener>();
        foreach (var (file, protocol) in new[] { ("/proc/net/tcp", "tcp"), ("/proc/net/tcp6", "tcp6") })
        {
            try
            {
                sockets.AddRange(File.ReadLines(file).Skip(1).Select(line => ListeningPorts.ParseLine(line, protocol)).OfType<ListeningPorts.Listener>());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // no IPv6 in this kernel, or /proc/net hidden
            }
        }

        return sockets;
    }
}
