using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Medic.Agent.Diagnostics;
using Medic.Agent.Execution;
using Medic.Contracts.Agent;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Monitors;

/// <summary>How a process monitor finds, restarts and reads the logs of its process.</summary>
internal enum TargetMode
{
    /// <summary>A systemd unit: systemctl show / restart / kill, journalctl for logs.</summary>
    Systemd,

    /// <summary>A <c>start</c> command the agent runs as its own child (found by match or pidfile when given).</summary>
    Supervised,

    /// <summary>Found by match or pidfile; the agent can watch it but not restart it.</summary>
    Observed,
}

/// <summary>Is the process there: its pid and state, or why not.</summary>
internal sealed record Liveness(bool Alive, int? Pid, string Summary, IReadOnlyDictionary<string, string> Evidence);

/// <summary>
/// The process a process monitor is about. With a unit on a machine running systemd it is the
/// unit's main process; otherwise, with a <c>start</c> command, the agent's own child (started in
/// its own process group, restarted by killing that group and starting it again); otherwise
/// whatever <c>match</c> or <c>pidfile</c> finds.
/// </summary>
internal sealed class ProcessTarget
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(90);
    private static readonly Dictionary<string, string> ToolEnvironment = new() { ["LC_ALL"] = "C", ["SYSTEMD_COLORS"] = "0", ["SYSTEMD_PAGER"] = "" };
    private readonly MonitorDefinition _definition;
    private readonly Regex? _match;
    private readonly LineTail _tail;
    private readonly Lock _lock = new();
    private SupervisedProcess? _child;

    public ProcessTarget(MonitorDefinition definition, bool systemdRunning, Action<string, string>? onOutputLine = null)
    {
        _definition = definition;
        _match = definition.Match is null ? null : new Regex(definition.Match, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        _tail = new LineTail { OnLine = onOutputLine };
        Mode = definition.Unit is not null && systemdRunning ? TargetMode.Systemd
            : definition.Start is not null ? TargetMode.Supervised
            : definition.Unit is null && (definition.Match is not null || definition.Pidfile is not null) ? TargetMode.Observed
            : throw new AgentException(
                $"monitor '{definition.Name}' names the unit {definition.Unit} but systemd is not running on this machine",
                "add a 'start' command for the agent to supervise, or a 'match'/'pidfile' to find the process");
    }

    public TargetMode Mode { get; }

    public bool CanRestart => Mode != TargetMode.Observed;

    /// <summary>Raised when the supervised child exits, so the runner can check at once instead of at the next tick.</summary>
    public event Action? ChildExited;

    /// <summary>The supervised child's pid, while it runs.</summary>
    public int? ChildPid
    {
        get
        {
            lock (_lock) return _child is { HasExited: false } c ? c.Pid : null;
        }
    }

    /// <summary>Starts a supervised command that is not running yet (at agent start; no incident).</summary>
    public async Task StartIfStoppedAsync(CancellationToken ct)
    {
        if (Mode != TargetMode.Supervised) return;
        if ((await ProbeAsync(ct)).Alive) return;
        StartChild();
    }

    public async Task<Liveness> ProbeAsync(CancellationToken ct)
    {
        if (Mode == TargetMode.Systemd) return await ProbeUnitAsync(ct);
        if (_definition.Match is not null || _definition.Pidfile is not null)
        {
            var found = _definition.Pidfile is not null ? FromPidfile(_definition.Pidfile) : FromMatch();
            if (found.Alive || Mode != TargetMode.Supervised) return found;
            return await WithChildExitAsync(found, ct);
        }

        SupervisedProcess? child;
        lock (_lock) child = _child;
        if (child is null) return new Liveness(false, null, "not started yet", new Dictionary<string, string>());
        if (child.HasExited || ProcessTree.Read(child.Pid) is not { State: not 'Z' } stat)
        {
            return await WithChildExitAsync(new Liveness(false, child.Pid, "not running", new Dictionary<string, string>()), ct);
        }

        return Alive(child.Pid, stat.State);
    }

    private async Task<Liveness> WithChildExitAsync(Liveness dead, CancellationToken ct)
    {
        SupervisedProcess? child;
        lock (_lock) child = _child;
        // A child seen gone (or a zombie) may not be reaped yet; its exit status is what people need, so wait a moment for it.
        if (child is { HasExited: false }) await Task.WhenAny(child.Exited, Task.Delay(500, ct));
        if (child is not { HasExited: true }) return dead;
        var evidence = new Dictionary<string, string>(dead.Evidence) { [EvidenceKeys.ExitStatus] = child.ExitDescription!, ["pid"] = child.Pid.ToString(CultureInfo.InvariantCulture) };
        return dead with { Summary = $"not running: pid {child.Pid} {child.ExitDescription}", Evidence = evidence };
    }

    private static Liveness Alive(int pid, char state)
    {
        var evidence = new Dictionary<string, string> { ["pid"] = pid.ToString(CultureInfo.InvariantCulture), ["state"] = StateName(state) };
        return new Liveness(true, pid, $"running as pid {pid} ({StateName(state)})", evidence);
    }

    internal static string StateName(char state) => state switch
    {
        'R' => "R running",
        'S' => "S sleeping",
        'D' => "D uninterruptible wait",
        'T' => "T stopped",
        't' => "t traced",
        'Z' => "Z zombie",
        'I' => "I idle",
        _ => state.ToString(),
    };

    private Liveness FromPidfile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Liveness(false, null, $"not running: the pidfile {path} cannot be read ({e.Message})", new Dictionary<string, string> { ["pidfile"] = path });
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
        {
            return new Liveness(false, null, $"not running: the pidfile {path} holds no pid", new Dictionary<string, string> { ["pidfile"] = path });
        }

        return ProcessTree.Read(pid) is { State: not 'Z' } stat
            ? Alive(pid, stat.State)
            : new Liveness(false, pid, $"not running: pid {pid} from {path} is gone", new Dictionary<string, string> { ["pidfile"] = path, ["pid"] = pid.ToString(CultureInfo.InvariantCulture) });
    }

    private Liveness FromMatch()
    {
        var self = Environment.ProcessId;
        foreach (var process in ProcessTree.Snapshot())
        {
            if (process.Pid == self || process.State == 'Z') continue;
            var commandLine = CommandLine(process.Pid);
            if (commandLine.Length > 0 && _match!.IsMatch(commandLine)) return Alive(process.Pid, process.State);
        }

        return new Liveness(false, null, $"not running: no process matches '{_definition.Match}'", new Dictionary<string, string> { ["match"] = _definition.Match! });
    }

    internal static string CommandLine(int pid)
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

    private async Task<Liveness> ProbeUnitAsync(CancellationToken ct)
    {
        var unit = _definition.Unit!;
        var (outcome, stdout, stderr) = await CaptureAsync(["systemctl", "show", unit, "--property=ActiveState,SubState,MainPID,ExecMainStatus,ExecMainCode,LoadState"], TimeSpan.FromSeconds(10), ct);
        if (outcome.Status != TaskStatus.Completed || outcome.ExitCode != 0)
        {
            return new Liveness(false, null, $"systemctl show {unit} failed: {FirstLine(stderr) ?? outcome.Reason}", new Dictionary<string, string> { ["unit"] = unit });
        }

        var properties = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Trim(), StringComparer.Ordinal);
        var active = properties.GetValueOrDefault("ActiveState", "unknown");
        var evidence = new Dictionary<string, string>
        {
            ["unit"] = unit,
            ["active_state"] = $"{active} ({properties.GetValueOrDefault("SubState", "?")})",
        };
        if (properties.GetValueOrDefault("LoadState") == "not-found")
        {
            return new Liveness(false, null, $"unit {unit} does not exist", evidence);
        }

        _ = int.TryParse(properties.GetValueOrDefault("MainPID"), NumberStyles.None, CultureInfo.InvariantCulture, out var pid);
        if (active is "active" or "reloading" or "activating")
        {
            var state = pid > 0 && ProcessTree.Read(pid) is { } stat ? stat.State : 'S';
            var alive = Alive(pid, state);
            foreach (var (k, v) in alive.Evidence) evidence[k] = v;
            return alive with { Summary = $"unit {unit} is {active} (pid {pid}, {StateName(state)})", Evidence = evidence };
        }

        var status = properties.GetValueOrDefault("ExecMainStatus", "?");
        var code = properties.GetValueOrDefault("ExecMainCode", "?");
        evidence[EvidenceKeys.ExitStatus] = $"status {status} (code {code})";
        return new Liveness(false, null, $"unit {unit} is {active}: main process status {status}", evidence);
    }

    /// <summary>Kills a hung process hard (SIGKILL), before a restart.</summary>
    public async Task KillAsync(CancellationToken ct)
    {
        switch (Mode)
        {
            case TargetMode.Systemd:
                await CaptureAsync(["systemctl", "kill", "--signal=SIGKILL", _definition.Unit!], ToolTimeout, ct);
                return;
            default:
                SupervisedProcess? child;
                lock (_lock) child = _child;
                if (child is { HasExited: false })
                {
                    child.Kill();
                    await Task.WhenAny(child.Exited, Task.Delay(ProcessRunner.ReapAfterKill, ct));
                }

                if (_definition.Match is not null || _definition.Pidfile is not null)
                {
                    if (await ProbeAsync(ct) is { Alive: true, Pid: { } pid }) _ = Libc.Kill(pid, Libc.SIGKILL);
                }

                return;
        }
    }

    /// <summary>Restarts the process; null on success, else why it could not be restarted.</summary>
    public async Task<string?> RestartAsync(CancellationToken ct)
    {
        switch (Mode)
        {
            case TargetMode.Systemd:
                var (outcome, _, stderr) = await CaptureAsync(["systemctl", "restart", _definition.Unit!], ToolTimeout, ct);
                return outcome.Status == TaskStatus.Completed && outcome.ExitCode == 0
                    ? null
                    : $"systemctl restart {_definition.Unit} failed: {FirstLine(stderr) ?? outcome.Reason ?? $"exit code {outcome.ExitCode}"}";
            case TargetMode.Supervised:
                SupervisedProcess? old;
                lock (_lock) old = _child;
                if (old is { HasExited: false })
                {
                    old.Kill();
                    await Task.WhenAny(old.Exited, Task.Delay(ProcessRunner.ReapAfterKill, ct));
                }

                try
                {
                    StartChild();
                    return null;
                }
                catch (AgentException e)
                {
                    return e.Message;
                }

            default:
                return "this monitor has no way to restart the process (no unit, no start command)";
        }
    }

    private void StartChild()
    {
        var child = SupervisedProcess.Start(_definition.Start!, _definition.WorkingDirectory, _tail);
        lock (_lock) _child = child;
        _ = child.Exited.ContinueWith(_ => ChildExited?.Invoke(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// The files whose change likely means a person fixed what kept the process down: the unit's
    /// file and drop-ins (systemd), or the program and the files its start command names.
    /// </summary>
    public async Task<IReadOnlyList<string>> OwnFilesAsync(CancellationToken ct)
    {
        if (Mode == TargetMode.Systemd)
        {
            var (outcome, stdout, _) = await CaptureAsync(["systemctl", "show", _definition.Unit!, "--property=FragmentPath,DropInPaths"], TimeSpan.FromSeconds(10), ct);
            if (outcome.Status != TaskStatus.Completed || outcome.ExitCode != 0) return [];
            return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('=', 2))
                .Where(p => p.Length == 2)
                .SelectMany(p => p[1].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(path => path is ['/', ..])
                .ToList();
        }

        if (Mode != TargetMode.Supervised) return [];
        var program = Executables.Find(_definition.Start![0], ProcessRunner.BuildEnvironment(null).GetValueOrDefault("PATH"));
        return [.. program is null ? [] : new[] { program }, .. WatchedFiles.FilesIn(_definition.Start!)];
    }

    /// <summary>The last log lines of the process: the unit's journal, or what the supervised child wrote.</summary>
    public async Task<string> LastLinesAsync(int count, CancellationToken ct)
    {
        if (Mode == TargetMode.Systemd)
        {
            if (!Executables.IsInstalled("journalctl")) return "(journalctl is not installed)";
            var (outcome, stdout, stderr) = await CaptureAsync(["journalctl", "-u", _definition.Unit!, "-n", count.ToString(CultureInfo.InvariantCulture), "--no-pager", "-o", "short-iso"], TimeSpan.FromSeconds(15), ct);
            return outcome.ExitCode == 0 ? stdout.TrimEnd() : $"(journalctl failed: {FirstLine(stderr) ?? outcome.Reason})";
        }

        return Mode == TargetMode.Supervised ? _tail.Last(count) : "";
    }

    /// <summary>Stops the supervised child (SIGTERM, then SIGKILL) when the agent or watch stops.</summary>
    public async Task StopAsync()
    {
        SupervisedProcess? child;
        lock (_lock) child = _child;
        if (child is not null) await child.StopAsync(TimeSpan.FromSeconds(5));
    }

    private static async Task<(ProcessOutcome Outcome, string Stdout, string Stderr)> CaptureAsync(IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken ct)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var outcome = await ProcessRunner.RunAsync(
            new ProcessRequest(argv, timeout) { Environment = ToolEnvironment, OutputCapBytes = 256 * 1024 },
            (stream, data) =>
            {
                (stream == "stderr" ? stderr : stdout).Append(data);
                return ValueTask.CompletedTask;
            },
            ct);
        return (outcome, stdout.ToString(), stderr.ToString());
    }

    private static string? FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();

    internal static bool SystemdIsRunning => ServiceVerbs.SystemdIsRunning && Executables.IsInstalled("systemctl");
}
