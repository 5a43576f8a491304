using System.Text;
using Medic.Agent.Execution;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Diagnostics;

/// <summary>Services and the logs about them: systemd status, the journal, and the kernel's OOM kills.</summary>
internal static class ServiceVerbs
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);
    private static readonly string[] JournalDirectories = ["/var/log/journal", "/run/log/journal"];
    private static readonly string[] OomMarkers = ["out of memory", "oom-kill", "oom_reaper", "killed process"];

    public static DiagnosticVerb ServiceStatus { get; } = new()
    {
        Name = "service-status",
        Description = "A systemd unit's state, main PID, memory and last log lines (systemctl status UNIT).",
        Parameters = [VerbParameter.Unit()],
        Run = async run =>
        {
            if (!SystemdIsRunning)
            {
                return await run.UnavailableAsync($"systemd is not running on this machine (PID 1 is '{InitName()}'); service status needs systemd.");
            }
            if (!Executables.IsInstalled("systemctl"))
            {
                return await run.UnavailableAsync("systemctl is not installed although systemd is running; service status is not available.");
            }
            // systemctl status exits 3 for an inactive unit and 4 for an unknown one: the exit code says which.
            return await run.ExecAsync(["systemctl", "status", "--no-pager", "--full", "--", run.Arguments.Text("unit")], ToolTimeout);
        },
    };

    public static DiagnosticVerb Journal { get; } = new()
    {
        Name = "journal",
        Description = "The last lines a systemd unit logged (journalctl -u UNIT -n LINES).",
        Parameters = [VerbParameter.Unit(), VerbParameter.Integer("lines", "how many lines", 1, 1000, 100)],
        Run = async run =>
        {
            if (!Executables.IsInstalled("journalctl"))
            {
                return await run.UnavailableAsync("journalctl is not installed; there is no systemd journal to read on this machine.");
            }
            if (!JournalExists())
            {
                return await run.UnavailableAsync(NoJournal());
            }
            return await run.ExecAsync(
                ["journalctl", "-u", run.Arguments.Text("unit"), "-n", run.Arguments.Text("lines"), "--no-pager", "-o", "short-iso"],
                ToolTimeout);
        },
    };

    public static DiagnosticVerb OomKills { get; } = new()
    {
        Name = "oom-kills",
        Description = "Recent out-of-memory kills from the kernel log (journalctl -k, else dmesg).",
        Parameters = [VerbParameter.Integer("count", "how many of the latest matching lines to show", 1, 200, 20)],
        Run = RunOomKillsAsync,
    };

    private static async Task<ProcessOutcome> RunOomKillsAsync(VerbRun run)
    {
        var count = run.Arguments.Integer("count");
        var problems = new List<string>();
        var sources = new List<(string Tool, string[] Argv)>();
        if (!Executables.IsInstalled("journalctl"))
        {
            problems.Add("journalctl is not installed");
        }
        else if (!JournalExists())
        {
            problems.Add("there is no systemd journal");
        }
        else
        {
            sources.Add(("journalctl -k", ["journalctl", "-k", "--no-pager", "-q", "-o", "short-iso"]));
        }
        if (Executables.IsInstalled("dmesg"))
        {
            sources.Add(("dmesg", ["dmesg"]));
        }
        else
        {
            problems.Add("dmesg is not installed");
        }

        foreach (var (tool, argv) in sources)
        {
            var captured = await run.CaptureAsync(argv, ToolTimeout, capBytes: 16L * 1024 * 1024);
            if (captured.Outcome.Status != TaskStatus.Completed || captured.Outcome.ExitCode != 0)
            {
                var why = FirstLine(captured.Stderr) ?? captured.Outcome.Reason ?? $"exit code {captured.Outcome.ExitCode}";
                problems.Add($"{tool} failed: {why}");
                continue;
            }
            var lines = captured.Stdout.Split('\n');
            if (tool.StartsWith("journalctl", StringComparison.Ordinal) && lines.All(l => l.Length == 0 || l.StartsWith("-- ", StringComparison.Ordinal)))
            {
                problems.Add($"{tool} has no kernel messages");
                continue; // an empty kernel journal says nothing about OOM kills; dmesg may know more
            }
            var kills = lines.Where(IsOomLine).ToList();
            var text = new StringBuilder();
            text.AppendLine($"source: {tool} (kernel messages since boot)");
            if (kills.Count == 0)
            {
                text.AppendLine("no out-of-memory kills found");
            }
            else
            {
                text.AppendLine($"{kills.Count} out-of-memory line{(kills.Count == 1 ? "" : "s")}; the latest {Math.Min(count, kills.Count)}:");
                foreach (var line in kills.TakeLast(count))
                {
                    text.AppendLine(line);
                }
            }
            await run.WriteAsync(text.ToString());
            return run.Completed();
        }
        return await run.UnavailableAsync($"the kernel log is not readable here: {string.Join("; ", problems)}.");
    }

    internal static bool IsOomLine(string line) => OomMarkers.Any(m => line.Contains(m, StringComparison.OrdinalIgnoreCase));

    /// <summary>The test sd_booted(3) uses: systemd creates this directory only when it is PID 1.</summary>
    internal static bool SystemdIsRunning => Directory.Exists("/run/systemd/system");

    internal static bool JournalExists()
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 2, IgnoreInaccessible = true };
        foreach (var directory in JournalDirectories)
        {
            try
            {
                if (Directory.Exists(directory) && Directory.EnumerateFiles(directory, "*.journal*", options).Any())
                {
                    return true;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Unreadable: treat as absent and let the message say so.
            }
        }
        return false;
    }

    private static string NoJournal() =>
        SystemdIsRunning
            ? "the systemd journal has no files this agent can read (/var/log/journal, /run/log/journal); run the agent as root or in the systemd-journal group."
            : $"there is no systemd journal on this machine: systemd is not running (PID 1 is '{InitName()}') and /var/log/journal holds no journal files.";

    private static string InitName()
    {
        try
        {
            return File.ReadAllText("/proc/1/comm").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private static string? FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
}
