using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Medic.Bench.Fanout;

/// <summary>
/// A real control plane (<c>medic server</c>) on SQLite in a temporary directory, run as a child
/// process so its RSS and CPU are its own. Disposing kills it and deletes the directory.
/// </summary>
internal sealed class ControlPlaneProcess : IAsyncDisposable
{
    private const int KeptLogLines = 20;
    private readonly Process _process;
    private readonly string _tempDir;
    private readonly ConcurrentQueue<string> _problems = new();
    private readonly TaskCompletionSource<bool> _running = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _warnings;
    private int _dropped;

    private ControlPlaneProcess(Process process, string tempDir, Uri url, string adminPassword)
    {
        _process = process;
        _tempDir = tempDir;
        Url = url;
        AdminPassword = adminPassword;
    }

    public Uri Url { get; }

    public string AdminPassword { get; }

    public int Pid => _process.Id;

    /// <summary>Leave the data directory (database, audit log) for inspection instead of deleting it.</summary>
    public bool KeepData { get; private init; }

    public string DataDir => Path.Combine(_tempDir, "data");

    /// <summary>Lines the server logged at warn or fail level.</summary>
    public int Warnings => _warnings;

    /// <summary>"Agent ... dropped" lines: connections the server saw break.</summary>
    public int Dropped => _dropped;

    public IEnumerable<string> RecentProblems => _problems;

    public string? LastDropLine { get; private set; }

    public ProcStats Stats() => ProcStats.Read(_process.Id);

    /// <summary>Prints the last warning and failure lines of the server's log, if it logged any.</summary>
    public void PrintProblems()
    {
        if (Warnings == 0) return;
        Console.WriteLine($"control plane logged {Warnings} warning or failure lines; the last ones:");
        foreach (var line in RecentProblems) Console.WriteLine("  " + line);
    }

    public static async Task<ControlPlaneProcess> StartAsync(string medicDll, int? heartbeatSeconds, bool keepData, CancellationToken ct, IReadOnlyDictionary<string, string>? environment = null)
    {
        var tempDir = Directory.CreateTempSubdirectory("medic-fanout-").FullName;
        var port = FreeLoopbackPort();
        var url = new Uri($"http://127.0.0.1:{port}");
        var password = "bench-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            ArgumentList = { medicDll, "server", "--data", Path.Combine(tempDir, "data"), "--listen", url.ToString().TrimEnd('/') },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = tempDir,
        };

        // Only what this run sets: an operator's own MEDIC_* settings must not change the measurement.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MEDIC_", StringComparison.Ordinal)).ToList()) start.Environment.Remove(name);
        start.Environment["MEDIC_ADMIN_PASSWORD"] = password;
        // The bench polls executions quickly; the default 600 requests a minute per token would answer 429.
        start.Environment["MEDIC_RATE_LIMITS__API_PER_MINUTE"] = "1000000";
        if (heartbeatSeconds is { } hb) start.Environment["MEDIC_AGENTS__HEARTBEAT_SECONDS"] = hb.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        var process = Process.Start(start) ?? throw new BenchFailure("could not start the control plane", "check that 'dotnet' is on PATH");
        var plane = new ControlPlaneProcess(process, tempDir, url, password) { KeepData = keepData };
        process.OutputDataReceived += (_, e) => plane.Observe(e.Data);
        process.ErrorDataReceived += (_, e) => plane.Observe(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var exited = process.WaitForExitAsync(ct);
            var first = await Task.WhenAny(plane._running.Task, exited).WaitAsync(FanoutOptions.StartLimit, ct);
            if (first == exited)
            {
                throw new BenchFailure($"the control plane exited with code {process.ExitCode} before serving: {string.Join(" | ", plane.RecentProblems)}",
                    "run the same 'medic server' command by hand to see why");
            }
        }
        catch (TimeoutException)
        {
            await plane.DisposeAsync();
            throw new BenchFailure($"the control plane did not report 'is running' within {FanoutOptions.StartLimit.TotalSeconds:0} s",
                "check the machine's load, or run the same 'medic server' command by hand");
        }
        catch
        {
            await plane.DisposeAsync();
            throw;
        }

        return plane;
    }

    private void Observe(string? line)
    {
        if (line is null) return;
        if (line.Contains(" is running.", StringComparison.Ordinal)) _running.TrySetResult(true);
        if (line.Contains(" dropped: ", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _dropped);
            LastDropLine = line;
        }

        if (line.Contains("warn:", StringComparison.Ordinal) || line.Contains("fail:", StringComparison.Ordinal) || line.StartsWith("medic:", StringComparison.Ordinal)
            || line.Contains("Exception", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _warnings);
            _problems.Enqueue(line);
            while (_problems.Count > KeptLogLines) _problems.TryDequeue(out _);
        }
    }

    internal static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine($"warning: could not stop the control plane (pid {_process.Id}): {ex.Message}");
        }
        finally
        {
            _process.Dispose();
            try
            {
                if (KeepData) Console.WriteLine($"kept the control plane's data in {DataDir} (medic.db); delete it when done");
                else Directory.Delete(_tempDir, recursive: true);
            }
            catch (IOException ex)
            {
                Console.Error.WriteLine($"warning: could not delete {_tempDir}: {ex.Message}");
            }
        }
    }
}
