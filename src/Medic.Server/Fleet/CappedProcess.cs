using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Medic.Server.Fleet;

/// <summary>
/// A child process run the way the agent runs tasks, for the ssh client: argv only (no shell),
/// output capped like the agent's, killed at its deadline. <c>StartFailure</c> says why it could
/// not start; <c>TimedOut</c> and <c>Cancelled</c> tell the deadline from the caller giving up.
/// </summary>
internal static class CappedProcess
{
    internal sealed record ProcessRun(int? ExitCode, bool TimedOut, bool Cancelled, string? StartFailure, bool Truncated, string Stdout, string Stderr);

    /// <summary>
    /// One child process, argv only, stdin closed: stdout and stderr read as they arrive under one
    /// byte budget (past it a marker line, then the rest is drained and dropped), killed at the deadline.
    /// </summary>
    public static async Task<ProcessRun> RunAsync(string program, IReadOnlyList<string> args, TimeSpan timeout, long cap,
        Func<string, string, ValueTask>? onChunk, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        psi.Environment.Remove("SSH_AUTH_SOCK");

        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            return new ProcessRun(null, false, false, $"could not start {program}: {ex.Message}", false, "", "");
        }

        process.StandardInput.Close();
        var output = new CappedOutput(cap, onChunk);
        var readers = Task.WhenAll(output.ReadAsync(process.StandardOutput.BaseStream, "stdout"), output.ReadAsync(process.StandardError.BaseStream, "stderr"));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = !ct.IsCancellationRequested;
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited just now.
            }

            using var reap = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await process.WaitForExitAsync(reap.Token);
            }
            catch (OperationCanceledException)
            {
                // Stuck in the kernel; the result does not wait for it.
            }
        }

        // The pipes close with the process; a descendant holding them open does not hold the result.
        await readers.WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        var (stdout, stderr, truncated) = output.Finish();
        var exited = process.HasExited && !timedOut && !ct.IsCancellationRequested;
        return new ProcessRun(exited ? process.ExitCode : null, timedOut, ct.IsCancellationRequested && !timedOut, null, truncated, stdout, stderr);
    }

    /// <summary>Both streams of one process under one byte budget, decoded as UTF-8 with sequences split across reads joined again.</summary>
    private sealed class CappedOutput(long cap, Func<string, string, ValueTask>? onChunk)
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly StringBuilder _stdout = new();
        private readonly StringBuilder _stderr = new();
        private long _taken;
        private bool _truncated;
        private bool _endsWithNewline = true;

        public async Task ReadAsync(Stream stream, string name)
        {
            var decoder = new UTF8Encoding(false, false).GetDecoder();
            var bytes = new byte[16 * 1024];
            var chars = new char[bytes.Length + 8];
            try
            {
                int read;
                while ((read = await stream.ReadAsync(bytes)) > 0)
                {
                    await _gate.WaitAsync();
                    try
                    {
                        // Past the budget the rest is read and dropped, so the process never blocks on a full pipe.
                        if (_truncated) continue;
                        var allowed = (int)Math.Min(read, cap - _taken);
                        _taken += allowed;
                        await DeliverAsync(name, new string(chars, 0, decoder.GetChars(bytes, 0, allowed, chars, 0, flush: false)));
                        if (allowed < read)
                        {
                            _truncated = true;
                            await DeliverAsync(name, (_endsWithNewline ? "" : "\n") + $"[medic: output truncated at {cap} bytes]\n");
                        }
                    }
                    finally
                    {
                        _gate.Release();
                    }
                }

                await _gate.WaitAsync();
                try
                {
                    if (!_truncated) await DeliverAsync(name, new string(chars, 0, decoder.GetChars([], 0, 0, chars, 0, flush: true)));
                }
                finally
                {
                    _gate.Release();
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                // The process was killed while its pipe was read.
            }
        }

        private async Task DeliverAsync(string name, string text)
        {
            if (text.Length == 0) return;
            (name == "stdout" ? _stdout : _stderr).Append(text);
            _endsWithNewline = text[^1] == '\n';
            if (onChunk is not null) await onChunk(name, text);
        }

        public (string Stdout, string Stderr, bool Truncated) Finish()
        {
            _gate.Wait();
            try
            {
                return (_stdout.ToString(), _stderr.ToString(), _truncated);
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
