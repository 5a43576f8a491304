using System.Net.Sockets;
using System.Text;
using Medic.Agent.Execution;

namespace Medic.Agent.Monitors;

/// <summary>
/// A long-running command the agent starts and watches itself (for machines without systemd):
/// spawned through <see cref="ProcessRunner.Spawn"/> as the leader of its own session, so a restart
/// or a hang kills the whole group; its stdout and stderr are kept as a tail of lines for evidence.
/// </summary>
internal sealed class SupervisedProcess
{
    private readonly LineTail _tail;
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SupervisedProcess(int pid, LineTail tail)
    {
        Pid = pid;
        _tail = tail;
    }

    public int Pid { get; }

    /// <summary>Completes with the wait status once the process has exited and been reaped.</summary>
    public Task<int> Exited => _exit.Task;

    public bool HasExited => _exit.Task.IsCompleted;

    /// <summary>"exited with code 3", "killed by signal 9 (SIGKILL)", or null while it runs.</summary>
    public string? ExitDescription => HasExited ? Describe(_exit.Task.Result) : null;

    public static string Describe(int status)
    {
        if (status == ProcessRunner.UnknownStatus) return "exited (status unknown: it was reaped elsewhere)";
        var signal = status & 0x7f;
        if (signal == 0) return $"exited with code {(status >> 8) & 0xff}";
        return $"killed by signal {signal}{SignalName(signal)}";
    }

    private static string SignalName(int signal) => signal switch
    {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        15 => " (SIGTERM)",
        _ => "",
    };

    /// <summary>Starts <paramref name="argv"/>; throws <see cref="AgentException"/> when it cannot.</summary>
    public static SupervisedProcess Start(IReadOnlyList<string> argv, string? workingDirectory, LineTail tail)
    {
        var environment = ProcessRunner.BuildEnvironment(null);
        var executable = Executables.Find(argv[0], environment.GetValueOrDefault("PATH"))
            ?? throw new AgentException(ProcessRunner.NotInstalled(argv[0]), "install it or give its full path in 'start'");
        if (workingDirectory is not null && !Directory.Exists(workingDirectory))
        {
            throw new AgentException($"the working directory '{workingDirectory}' does not exist", "create it or fix 'working_directory'");
        }

        ProcessRunner.SpawnedProcess spawned;
        try
        {
            spawned = ProcessRunner.Spawn(executable, argv, environment, workingDirectory);
        }
        catch (ProcessRunner.SpawnException e)
        {
            throw new AgentException($"could not start '{argv[0]}': {e.Message}", "check that it is a program this machine can run");
        }

        var process = new SupervisedProcess(spawned.Pid, tail);
        tail.Add("medic", $"started pid {spawned.Pid}: {string.Join(' ', argv)}");
        _ = process.ReadAsync(spawned.Stdout, "stdout");
        _ = process.ReadAsync(spawned.Stderr, "stderr");
        _ = process.WatchAsync();
        return process;
    }

    private async Task WatchAsync()
    {
        var status = await ProcessRunner.WaitForExitAsync(Pid, CancellationToken.None) ?? ProcessRunner.UnknownStatus;
        _tail.Add("medic", $"pid {Pid} {Describe(status)}");
        _exit.TrySetResult(status);
    }

    private async Task ReadAsync(Socket pipe, string stream)
    {
        var decoder = new UTF8Encoding(false, false).GetDecoder();
        var buffer = new byte[8192];
        var chars = new char[8192 + 8];
        var line = new StringBuilder();
        try
        {
            while (true)
            {
                var read = await pipe.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0) break;
                var count = decoder.GetChars(buffer, 0, read, chars, 0, flush: false);
                for (var i = 0; i < count; i++)
                {
                    if (chars[i] == '\n')
                    {
                        _tail.Add(stream, line.ToString());
                        line.Clear();
                    }
                    else if (line.Length < LineTail.MaxLineChars)
                    {
                        line.Append(chars[i]);
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            if (line.Length > 0) _tail.Add(stream, line.ToString());
            pipe.Dispose();
        }
    }

    /// <summary>SIGKILL to the whole group (and any descendant that left it).</summary>
    public void Kill()
    {
        if (!HasExited) ProcessTree.Kill(Pid);
    }

    /// <summary>SIGTERM to the group, then SIGKILL after <paramref name="grace"/>; waits (bounded) for the exit.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (HasExited) return;
        _ = Libc.Kill(-Pid, Libc.SIGTERM);
        if (await Task.WhenAny(Exited, Task.Delay(grace)) != Exited) Kill();
        await Task.WhenAny(Exited, Task.Delay(ProcessRunner.ReapAfterKill));
    }
}

/// <summary>The last lines a supervised process wrote (stdout and stderr interleaved), bounded.</summary>
internal sealed class LineTail(int maxLines = 200)
{
    public const int MaxLineChars = 2000;
    private readonly Queue<string> _lines = new();
    private readonly Lock _lock = new();

    /// <summary>Called with each line as it arrives (e.g. to copy it to a log); must not throw.</summary>
    public Action<string, string>? OnLine { get; init; }

    public void Add(string stream, string line)
    {
        var text = stream == "stdout" ? line : $"[{stream}] {line}";
        lock (_lock)
        {
            _lines.Enqueue(text);
            while (_lines.Count > maxLines) _lines.Dequeue();
        }

        OnLine?.Invoke(stream, line);
    }

    public string Last(int count)
    {
        lock (_lock) return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - count)));
    }
}
