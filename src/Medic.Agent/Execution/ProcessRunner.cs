using System.Collections;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Execution;

/// <summary>
/// Runs one argv as a process, never through a shell: stdin is /dev/null, stdout and stderr stream
/// to the caller as they arrive, and the process leads a new session so that on timeout or
/// cancellation the whole group (and any descendant that left it) is killed. Every wait is bounded:
/// a child stuck in the kernel or a daemon holding the pipes open cannot hang the caller.
/// </summary>
internal static class ProcessRunner
{
    /// <summary>How long output may keep flowing after the process exits (from children that inherited the pipes).</summary>
    internal static readonly TimeSpan DrainAfterExit = TimeSpan.FromSeconds(2);

    /// <summary>How long to wait for the kernel to reap a process after SIGKILL.</summary>
    internal static readonly TimeSpan ReapAfterKill = TimeSpan.FromSeconds(5);

    /// <summary>The longest timer a CancellationTokenSource accepts, rounded down.</summary>
    internal static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(24);

    public static async Task<ProcessOutcome> RunAsync(
        ProcessRequest request,
        Func<string, string, ValueTask> onOutput,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onOutput);
        var clock = Stopwatch.StartNew();
        ProcessOutcome Failed(string reason) => new(TaskStatus.Failed, null, clock.ElapsedMilliseconds, false, reason);

        if (request.Argv.Count == 0 || string.IsNullOrEmpty(request.Argv[0]))
        {
            return Failed("nothing to run: the argv is empty");
        }
        if (request.Timeout <= TimeSpan.Zero || request.Timeout > MaxTimeout)
        {
            return Failed($"the timeout must be positive and at most {MaxTimeout.TotalDays:0} days");
        }
        if (request.Argv.Any(a => a.Contains('\0', StringComparison.Ordinal)))
        {
            return Failed("an argument contains a NUL character");
        }
        if (request.Environment?.Any(e => e.Key.Length == 0 || e.Key.Contains('=', StringComparison.Ordinal) || (e.Key + e.Value).Contains('\0', StringComparison.Ordinal)) == true)
        {
            return Failed("an environment variable has an empty name, or a name with '=' or a NUL character");
        }
        var environment = BuildEnvironment(request.Environment);
        var program = request.Argv[0];
        var executable = Executables.Find(program, environment.GetValueOrDefault("PATH"));
        if (executable is null)
        {
            return Failed(NotInstalled(program));
        }
        if (request.WorkingDirectory is { } directory && !Directory.Exists(directory))
        {
            return Failed($"the working directory '{directory}' does not exist");
        }

        SpawnedProcess spawned;
        try
        {
            spawned = Spawn(executable, request.Argv, environment, request.WorkingDirectory);
        }
        catch (SpawnException e)
        {
            return Failed(e.Errno switch
            {
                Libc.ENOENT => NotInstalled(program),
                Libc.EACCES => $"'{program}' is not executable (permission denied)",
                Libc.ENOEXEC => $"'{program}' is not a program this machine can run",
                _ => $"could not start '{program}': {e.Message}",
            });
        }

        using var abort = new CancellationTokenSource();
        using var sink = new OutputSink(onOutput, request.OutputCapBytes, () => _ = abort.CancelAsync());
        using var stopReading = new CancellationTokenSource();
        var readers = Task.WhenAll(
            ReadAsync(spawned.Stdout, OutputSink.CreateDecoder("stdout"), sink, stopReading.Token),
            ReadAsync(spawned.Stderr, OutputSink.CreateDecoder("stderr"), sink, stopReading.Token));
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, abort.Token);
            deadline.CancelAfter(request.Timeout);
            var exit = await WaitForExitAsync(spawned.Pid, deadline.Token);

            if (exit is { } status)
            {
                // Children that inherited stdout may hold it open after the process itself exited.
                await WaitBoundedAsync(readers, DrainAfterExit);
                await StopReadingAsync(readers, stopReading);
                if (sink.CallbackFailure is { } failure)
                {
                    return Failed($"the output could not be delivered: {failure.Message}");
                }
                var (exitCode, reason) = Describe(status);
                return new ProcessOutcome(TaskStatus.Completed, exitCode, clock.ElapsedMilliseconds, sink.Truncated, reason);
            }

            ProcessTree.Kill(spawned.Pid);
            using var reapWindow = new CancellationTokenSource(ReapAfterKill);
            var reaped = await WaitForExitAsync(spawned.Pid, reapWindow.Token) is not null;
            if (!reaped)
            {
                _ = ReapEventuallyAsync(spawned.Pid);
            }
            await WaitBoundedAsync(readers, DrainAfterExit);
            await StopReadingAsync(readers, stopReading);
            var stuck = reaped ? "" : "; it has not exited yet (stuck in the kernel?)";
            if (sink.CallbackFailure is { } undelivered)
            {
                return new ProcessOutcome(TaskStatus.Failed, null, clock.ElapsedMilliseconds, sink.Truncated,
                    $"the output could not be delivered ({undelivered.Message}); the process group was killed{stuck}");
            }
            if (cancellationToken.IsCancellationRequested)
            {
                return new ProcessOutcome(TaskStatus.Failed, null, clock.ElapsedMilliseconds, sink.Truncated,
                    $"cancelled before it finished; the process group was killed{stuck}");
            }
            return new ProcessOutcome(TaskStatus.Timeout, null, clock.ElapsedMilliseconds, sink.Truncated,
                $"timed out after {request.Timeout.TotalSeconds:0.###} s; the process group was killed{stuck}");
        }
        finally
        {
            spawned.Stdout.Dispose();
            spawned.Stderr.Dispose();
        }
    }

    internal static string NotInstalled(string program) => $"'{program}' is not installed or not on PATH";

    internal const int UnknownStatus = -1;

    internal static (int? ExitCode, string? Reason) Describe(int status)
    {
        if (status == UnknownStatus)
        {
            return (null, "the exit status was collected elsewhere and is unknown");
        }
        var signal = status & 0x7f;
        if (signal == 0)
        {
            return ((status >> 8) & 0xff, null);
        }
        return (128 + signal, $"killed by signal {signal}{(signal == Libc.SIGKILL ? " (SIGKILL; out of memory?)" : "")}");
    }

    internal static async Task ReadAsync(Socket pipe, OutputSink.StreamDecoder decoder, OutputSink sink, CancellationToken cancellationToken)
    {
        var buffer = new byte[OutputSink.MaxChunkBytes];
        try
        {
            while (true)
            {
                var read = await pipe.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    break;
                }
                await sink.AcceptAsync(decoder, buffer.AsMemory(0, read));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Reading stopped on purpose (a daemon kept the pipe open) or the pipe broke; what was
            // read has been delivered.
        }
        try
        {
            await sink.CompleteAsync(decoder);
        }
        catch (ObjectDisposedException)
        {
            // The run already returned without this reader (a callback that never completed).
        }
    }

    private static async Task StopReadingAsync(Task readers, CancellationTokenSource stopReading)
    {
        await stopReading.CancelAsync();
        await WaitBoundedAsync(readers, TimeSpan.FromSeconds(1));
    }

    private static async Task WaitBoundedAsync(Task task, TimeSpan limit)
    {
        await Task.WhenAny(task, Task.Delay(limit));
    }

    /// <summary>
    /// Polls waitpid for our own child: .NET's SIGCHLD handling only reaps processes started through
    /// System.Diagnostics.Process, so this pid is ours to collect. Returns the wait status, or null
    /// when <paramref name="cancellationToken"/> fired first.
    /// </summary>
    internal static async Task<int?> WaitForExitAsync(int pid, CancellationToken cancellationToken)
    {
        var delay = 1;
        while (true)
        {
            var status = TryReap(pid, out var gone);
            if (status is not null)
            {
                return status;
            }
            if (gone)
            {
                return UnknownStatus; // Reaped elsewhere (the agent's parent ignored SIGCHLD); the status is lost.
            }
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return TryReap(pid, out _);
            }
            delay = Math.Min(delay * 2, 50);
        }
    }

    internal static async Task ReapEventuallyAsync(int pid)
    {
        for (var attempt = 0; attempt < 3600; attempt++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            if (TryReap(pid, out var gone) is not null || gone)
            {
                return;
            }
        }
    }

    private static unsafe int? TryReap(int pid, out bool gone)
    {
        int status;
        int result;
        do
        {
            result = Libc.WaitPid(pid, &status, Libc.WNOHANG);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR);
        gone = result < 0;
        return result == pid ? status : null;
    }

    internal static Dictionary<string, string> BuildEnvironment(IReadOnlyDictionary<string, string>? overrides)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && entry.Value is string value)
            {
                environment[key] = value;
            }
        }
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }
        return environment;
    }

    internal sealed record SpawnedProcess(int Pid, Socket Stdout, Socket Stderr);

    internal sealed class SpawnException(int errno, string message) : Exception(message)
    {
        public int Errno { get; } = errno;
    }

    internal static unsafe SpawnedProcess Spawn(string executable, IReadOnlyList<string> argv, Dictionary<string, string> environment, string? workingDirectory)
    {
        var stdout = stackalloc int[2];
        var stderr = stackalloc int[2];
        if (Libc.Pipe2(stdout, Libc.O_CLOEXEC) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new SpawnException(errno, $"pipe2 failed (errno {errno})");
        }
        if (Libc.Pipe2(stderr, Libc.O_CLOEXEC) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _ = Libc.Close(stdout[0]);
            _ = Libc.Close(stdout[1]);
            throw new SpawnException(errno, $"pipe2 failed (errno {errno})");
        }

        var fileActions = NativeMemory.AllocZeroed(Libc.OpaqueSize);
        var attributes = NativeMemory.AllocZeroed(Libc.OpaqueSize);
        var emptySet = NativeMemory.AllocZeroed(Libc.OpaqueSize);
        var fullSet = NativeMemory.AllocZeroed(Libc.OpaqueSize);
        var path = Libc.Utf8(executable);
        var devNull = Libc.Utf8("/dev/null");
        var directory = workingDirectory is null ? null : Libc.Utf8(workingDirectory);
        var nativeArgv = Libc.StringArray(argv);
        var nativeEnvironment = Libc.StringArray(environment.Select(e => $"{e.Key}={e.Value}").ToList());
        var spawnedPid = 0;
        var error = 0;
        var started = false;
        try
        {
            _ = Libc.FileActionsInit(fileActions);
            _ = Libc.AttrInit(attributes);
            try
            {
                error = Libc.FileActionsAddOpen(fileActions, 0, devNull, Libc.O_RDONLY, 0);
                error = error != 0 ? error : Libc.FileActionsAddDup2(fileActions, stdout[1], 1);
                error = error != 0 ? error : Libc.FileActionsAddDup2(fileActions, stderr[1], 2);
                if (error == 0 && directory is not null)
                {
                    try
                    {
                        error = Libc.FileActionsAddChdir(fileActions, directory);
                    }
                    catch (EntryPointNotFoundException)
                    {
                        throw new SpawnException(0, "a working directory needs glibc 2.29 or musl 1.1.24 or newer");
                    }
                }
                // The runtime ignores SIGPIPE and may block signals; a child must start with defaults
                // or `yes | head` style pipelines in scripts would never end.
                _ = Libc.SigEmptySet(emptySet);
                _ = Libc.SigFillSet(fullSet);
                error = error != 0 ? error : Libc.AttrSetSigMask(attributes, emptySet);
                error = error != 0 ? error : Libc.AttrSetSigDefault(attributes, fullSet);
                error = error != 0 ? error : Libc.AttrSetFlags(attributes,
                    Libc.POSIX_SPAWN_SETSID | Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF);
                if (error == 0)
                {
                    error = Libc.PosixSpawn(out spawnedPid, path, fileActions, attributes, nativeArgv, nativeEnvironment);
                    started = error == 0;
                }
            }
            finally
            {
                _ = Libc.FileActionsDestroy(fileActions);
                _ = Libc.AttrDestroy(attributes);
            }
        }
        finally
        {
            // The child holds its own copies of the write ends; ours must close for EOF to arrive.
            _ = Libc.Close(stdout[1]);
            _ = Libc.Close(stderr[1]);
            if (!started)
            {
                _ = Libc.Close(stdout[0]);
                _ = Libc.Close(stderr[0]);
            }
            NativeMemory.Free(fileActions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(emptySet);
            NativeMemory.Free(fullSet);
            NativeMemory.Free(path);
            NativeMemory.Free(devNull);
            if (directory is not null)
            {
                NativeMemory.Free(directory);
            }
            Libc.FreeStringArray(nativeArgv);
            Libc.FreeStringArray(nativeEnvironment);
        }

        if (!started)
        {
            throw new SpawnException(error, $"posix_spawn failed (errno {error})");
        }
        // A pipe's read end wrapped as a Socket gets epoll-driven, cancellable reads; the
        // PipeStream alternative blocks a thread-pool thread per stream until EOF.
        return new SpawnedProcess(
            spawnedPid,
            new Socket(new SafeSocketHandle((nint)stdout[0], ownsHandle: true)),
            new Socket(new SafeSocketHandle((nint)stderr[0], ownsHandle: true)));
    }
}
