using System.Diagnostics;
using System.Text;

namespace Medic.E2E.Tests;

/// <summary>
/// A long-running <c>medic</c> child process (an agent, or a server on an address the test chose so
/// it can be restarted on the same port), with stdout and stderr captured line by line as they come.
/// Disposing kills it and its children if it is still running.
/// </summary>
public sealed class MedicDaemon : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _command;
    private readonly StringBuilder _output = new();
    private bool _disposed;

    private MedicDaemon(Process process, string command)
    {
        _process = process;
        _command = command;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Everything the process wrote so far, stdout and stderr interleaved by line.</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    public bool HasExited => _process.HasExited;

    public static MedicDaemon Start(MedicHome home, params string[] args)
    {
        var process = new Process { StartInfo = home.StartInfo(args), EnableRaisingEvents = true };
        process.Start();
        return new MedicDaemon(process, "medic " + string.Join(' ', args));
    }

    /// <summary>Starts another program (an installed <c>medic-agent</c>, say) with the environment of <paramref name="home"/>.</summary>
    public static MedicDaemon StartProgram(MedicHome home, string file, IEnumerable<string> args)
    {
        var psi = home.StartInfo();
        psi.FileName = file;
        psi.ArgumentList.Clear();
        foreach (var a in args) psi.ArgumentList.Add(a);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.Start();
        return new MedicDaemon(process, file + " " + string.Join(' ', args));
    }

    /// <summary>Starts <c>medic server --data DIR --listen URL</c> and waits until it says it is ready.</summary>
    public static async Task<MedicDaemon> StartServerAsync(MedicHome home, string url, string dataDir)
    {
        var server = Start(home, "server", "--data", dataDir, "--listen", url);
        try
        {
            await server.WaitForOutputAsync("Stop with Ctrl-C", TimeSpan.FromSeconds(60));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <paramref name="text"/> appears at least <paramref name="occurrences"/> times in the output.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout, int occurrences = 1)
    {
        var watch = Stopwatch.StartNew();
        while (Count(Output, text) < occurrences)
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"'{text}' did not appear {occurrences} time(s) within {timeout.TotalSeconds:0} s in the output of {_command}:\n{Output}");
            }

            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(); // drains the redirected streams
                if (Count(Output, text) >= occurrences) return;
                throw new InvalidOperationException($"{_command} exited with {_process.ExitCode} before '{text}' appeared:\n{Output}");
            }

            await Task.Delay(100);
        }
    }

    public static int Count(string haystack, string needle)
    {
        var count = 0;
        for (var i = haystack.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = haystack.IndexOf(needle, i + needle.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    /// <summary>Sends SIGTERM (what systemd and docker stop send) and waits, bounded, for the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{_command} did not exit within {timeout.TotalSeconds:0} s of SIGTERM:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Kills the process and its children at once, as a crash or a power cut would end them.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            await KillAsync();
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }
}
