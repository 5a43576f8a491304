using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Medic.Agent.Execution;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Diagnostics;

/// <summary>The machine as a whole: identity and load, disks, where the space went, and the busiest processes.</summary>
internal static class HostVerbs
{
    internal static readonly TimeSpan DuTimeLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);

    public static DiagnosticVerb SystemSummary { get; } = new()
    {
        Name = "system",
        Description = "Host summary from /proc: hostname, OS, kernel, uptime, load, memory and swap.",
        Run = async run =>
        {
            await run.WriteAsync(Summary());
            return run.Completed();
        },
    };

    public static DiagnosticVerb Disk { get; } = new()
    {
        Name = "disk",
        Description = "Space and inodes used on every mounted filesystem (df -P -h, df -i).",
        Run = async run =>
        {
            if (!Executables.IsInstalled("df"))
            {
                return await run.UnavailableAsync("df is not installed (it comes with coreutils); disk usage is not available.");
            }
            await run.WriteLineAsync("$ df -P -h");
            var space = await run.ExecAsync(["df", "-P", "-h"], ToolTimeout);
            if (space.Status != TaskStatus.Completed)
            {
                return space;
            }
            await run.WriteLineAsync();
            await run.WriteLineAsync("$ df -i");
            var inodes = await run.ExecAsync(["df", "-i"], ToolTimeout);
            // df exits 1 when one mount is unreadable yet prints the others; report the worse of the two.
            return inodes.Status == TaskStatus.Completed && space.ExitCode != 0 ? inodes with { ExitCode = space.ExitCode } : inodes;
        },
    };

    public static DiagnosticVerb LargestDirectories { get; } = new()
    {
        Name = "largest-dirs",
        Description = "The largest directories under a path on the same filesystem (du -x), biggest first.",
        Parameters =
        [
            VerbParameter.AbsolutePath("path", "the directory to measure (absolute, default /)", "/"),
            VerbParameter.Integer("depth", "how many levels below the path to list", 1, 3, 1),
            VerbParameter.Integer("top", "how many directories to show", 1, 50, 10),
        ],
        Run = RunLargestDirectoriesAsync,
    };

    public static DiagnosticVerb TopCpu { get; } = TopProcesses("top-cpu", "cpu", "-pcpu");

    public static DiagnosticVerb TopMemory { get; } = TopProcesses("top-mem", "resident memory", "-rss");

    private static async Task<ProcessOutcome> RunLargestDirectoriesAsync(VerbRun run)
    {
        var path = run.Arguments.Text("path");
        var depth = run.Arguments.Integer("depth");
        var top = run.Arguments.Integer("top");
        if (!Directory.Exists(path))
        {
            await run.WriteLineAsync($"'{path}' is not a directory on this machine.");
            return run.Completed(exitCode: 1, reason: $"'{path}' is not a directory");
        }
        if (!Executables.IsInstalled("du"))
        {
            return await run.UnavailableAsync("du is not installed (it comes with coreutils); directory sizes are not available.");
        }
        var captured = await run.CaptureAsync(
            ["du", "-x", "-k", $"--max-depth={depth}", "--", path], DuTimeLimit, capBytes: 32L * 1024 * 1024);
        if (captured.Outcome.Status == TaskStatus.Failed)
        {
            await run.WriteAsync(captured.Stderr);
            return run.From(captured.Outcome);
        }
        var sizes = ParseDu(captured.Stdout).OrderByDescending(e => e.Kilobytes).ThenBy(e => e.Path, StringComparer.Ordinal).Take(top).ToList();
        var text = new StringBuilder();
        if (captured.Outcome.Status == TaskStatus.Timeout)
        {
            text.AppendLine($"du did not finish within {DuTimeLimit.TotalSeconds:0} s; these sizes count only what it measured so far.");
        }
        text.AppendLine($"largest directories under {path} (depth {depth}, same filesystem):");
        foreach (var (kilobytes, directory) in sizes)
        {
            text.AppendLine($"{HumanSize(kilobytes * 1024),8}  {directory}");
        }
        if (sizes.Count == 0)
        {
            text.AppendLine("(du listed nothing)");
        }
        var unreadable = captured.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (unreadable.Length > 0)
        {
            text.AppendLine($"du could not read {unreadable.Length} entr{(unreadable.Length == 1 ? "y" : "ies")}, first: {unreadable[0]}");
        }
        await run.WriteAsync(text.ToString());
        if (captured.Outcome.Status == TaskStatus.Timeout)
        {
            return run.End(TaskStatus.Timeout, null, $"du did not finish within {DuTimeLimit.TotalSeconds:0} s; sizes shown are partial");
        }
        return run.Completed(captured.Outcome.ExitCode);
    }

    internal static IEnumerable<(long Kilobytes, string Path)> ParseDu(string output)
    {
        foreach (var line in output.Split('\n'))
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab > 0 && long.TryParse(line.AsSpan(0, tab), NumberStyles.None, CultureInfo.InvariantCulture, out var kilobytes))
            {
                yield return (kilobytes, line[(tab + 1)..]);
            }
        }
    }

    private static DiagnosticVerb TopProcesses(string name, string by, string sortKey) => new()
    {
        Name = name,
        Description = $"The processes using the most {by} (ps -eo pid,user,pcpu,pmem,rss,etime,comm --sort={sortKey}; %CPU is over each process's lifetime).",
        Parameters = [VerbParameter.Integer("count", "how many processes to show", 1, 50, 10)],
        Run = async run =>
        {
            if (!Executables.IsInstalled("ps"))
            {
                return await run.UnavailableAsync("ps is not installed (it comes with procps); the process list is not available.");
            }
            var captured = await run.CaptureAsync(
                ["ps", "-eo", "pid,user,pcpu,pmem,rss,etime,comm", $"--sort={sortKey}"], ToolTimeout);
            if (captured.Outcome.Status != TaskStatus.Completed || captured.Outcome.ExitCode != 0)
            {
                await run.WriteAsync(captured.Stdout + captured.Stderr);
                return run.From(captured.Outcome);
            }
            var lines = captured.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            await run.WriteAsync(string.Concat(lines.Take(run.Arguments.Integer("count") + 1).Select(l => l + "\n")));
            return run.Completed();
        },
    };

    internal static string Summary()
    {
        var text = new StringBuilder();
        text.AppendLine($"hostname: {ReadFirstLine("/proc/sys/kernel/hostname") ?? Environment.MachineName}");
        text.AppendLine($"os:       {OsName() ?? "unknown (no /etc/os-release)"}");
        text.AppendLine($"kernel:   {ReadFirstLine("/proc/sys/kernel/osrelease") ?? "unknown"} ({RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()})");

        var uptime = ReadFirstLine("/proc/uptime")?.Split(' ')[0];
        text.AppendLine(double.TryParse(uptime, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            ? $"uptime:   {Duration(TimeSpan.FromSeconds(seconds))}"
            : "uptime:   unavailable (/proc/uptime is not readable)");

        var load = ReadFirstLine("/proc/loadavg")?.Split(' ');
        text.AppendLine(load is { Length: >= 4 }
            ? $"load:     {load[0]} {load[1]} {load[2]} (1, 5, 15 min) on {Environment.ProcessorCount} CPUs; processes running/total {load[3]}"
            : "load:     unavailable (/proc/loadavg is not readable)");

        var memory = MemInfo();
        if (memory.TryGetValue("MemTotal", out var total) && memory.TryGetValue("MemAvailable", out var available))
        {
            text.AppendLine($"memory:   {HumanSize(total - available)} used of {HumanSize(total)} ({Percent(total - available, total)}), {HumanSize(available)} available");
        }
        else
        {
            text.AppendLine("memory:   unavailable (/proc/meminfo is not readable)");
        }
        if (memory.TryGetValue("SwapTotal", out var swapTotal) && memory.TryGetValue("SwapFree", out var swapFree))
        {
            text.AppendLine(swapTotal == 0
                ? "swap:     none"
                : $"swap:     {HumanSize(swapTotal - swapFree)} used of {HumanSize(swapTotal)} ({Percent(swapTotal - swapFree, swapTotal)})");
        }
        return text.ToString();
    }

    /// <summary>/proc/meminfo in bytes, by field name.</summary>
    internal static Dictionary<string, long> MemInfo()
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in ReadLines("/proc/meminfo"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var parts = colon > 0 ? line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
            if (parts.Length > 0 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                values[line[..colon]] = parts.Length > 1 && parts[1] == "kB" ? value * 1024 : value;
            }
        }
        return values;
    }

    private static string? OsName()
    {
        foreach (var line in ReadLines("/etc/os-release"))
        {
            if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
            {
                return line["PRETTY_NAME=".Length..].Trim('"');
            }
        }
        return null;
    }

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string? ReadFirstLine(string path) => ReadLines(path).FirstOrDefault()?.Trim();

    private static string Percent(long part, long whole) => whole <= 0 ? "?" : $"{100.0 * part / whole:0.0}%";

    internal static string Duration(TimeSpan span) =>
        span.TotalDays >= 1 ? $"{(int)span.TotalDays} day{((int)span.TotalDays == 1 ? "" : "s")}, {span.Hours}:{span.Minutes:00}" : $"{span.Hours}:{span.Minutes:00}:{span.Seconds:00}";

    internal static string HumanSize(long bytes)
    {
        string[] units = ["B", "K", "M", "G", "T", "P"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes}B" : $"{value:0.0}{units[unit]}";
    }
}
