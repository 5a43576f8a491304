using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Medic.E2E.Tests;

/// <summary>Result of one finished <c>medic</c> command.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the real <c>medic</c> executable as a child process with its own HOME, so its data
/// directory and CLI config live in a temp directory the test owns.
/// </summary>
public sealed class MedicHome : IDisposable
{
    public MedicHome()
    {
        Home = Directory.CreateTempSubdirectory("medic-e2e-").FullName;
    }

    public string Home { get; }

    public Dictionary<string, string> Environment { get; } = new();

    public static string CliDll { get; } = FindCli();

    private static string FindCli()
    {
        // tests/Medic.E2E.Tests/bin/<Configuration>/net10.0/ -> src/Medic.Cli/bin/<Configuration>/net10.0/medic.dll
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = dir.Parent!.Name;
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Medic.slnx"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("Cannot find the repository root (Medic.slnx) above " + AppContext.BaseDirectory);
        var dll = Path.Combine(dir.FullName, "src", "Medic.Cli", "bin", configuration, "net10.0", "medic.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing; build the solution first");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ProcessStartInfo StartInfo(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = Home;
        psi.Environment.Remove("XDG_CONFIG_HOME");
        psi.Environment.Remove("MEDIC_CLI_CONFIG");
        psi.Environment.Remove("MEDIC_CONTEXT");
        psi.Environment.Remove("MEDIC_ADMIN_PASSWORD");
        psi.Environment.Remove("MEDIC_DATABASE");
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (k, v) in Environment) psi.Environment[k] = v;
        return psi;
    }

    /// <summary>Runs a command to completion (bounded), feeding <paramref name="stdin"/> if given.</summary>
    public async Task<CliRun> RunWithInputAsync(string? stdin, params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"medic {string.Join(' ', args)} did not finish within 60 s");
        }

        return new CliRun(process.ExitCode, await stdout, await stderr);
    }

    public Task<CliRun> RunAsync(params string[] args) => RunWithInputAsync(null, args);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Home, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A long-running <c>medic up</c> or <c>medic server</c>, with its output captured as it comes.</summary>
public sealed partial class RunningServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RunningServer(Process process, string url)
    {
        _process = process;
        Url = url;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stdout) _stdout.AppendLine(e.Data);
            if (e.Data.Contains("Stop with Ctrl-C", StringComparison.Ordinal)) _ready.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stderr) _stderr.AppendLine(e.Data);
        };
        process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException("medic exited before it was ready:\n" + Stdout + Stderr));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Url { get; }

    /// <summary>Matches the one-time admin password in the start-up banner; group 1 is the password.</summary>
    [System.Text.RegularExpressions.GeneratedRegex("with password ([A-Za-z0-9]+)")]
    public static partial System.Text.RegularExpressions.Regex FirstPassword();

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public TimeSpan StartedIn { get; private set; }

    public static Task<RunningServer> StartAsync(MedicHome home, params string[] args) => StartOnAsync(home, $"http://127.0.0.1:{MedicHome.FreePort()}", args);

    /// <summary>Starts on an address the test chose, so a restarted <c>medic up</c> serves where its agent and CLI context already point.</summary>
    public static async Task<RunningServer> StartOnAsync(MedicHome home, string url, params string[] args)
    {
        var psi = home.StartInfo([.. args, "--listen", url]);
        var watch = Stopwatch.StartNew();
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.Start();
        var server = new RunningServer(process, url);
        var finished = await Task.WhenAny(server._ready.Task, Task.Delay(TimeSpan.FromSeconds(60)));
        if (finished != server._ready.Task)
        {
            await server.DisposeAsync();
            throw new TimeoutException("medic did not get ready within 60 s:\n" + server.Stdout + server.Stderr);
        }

        await server._ready.Task;
        server.StartedIn = watch.Elapsed;
        return server;
    }

    /// <summary>Sends SIGTERM (what systemd and docker stop send) and waits for the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited) return _process.ExitCode;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL to the process alone, as a crash or the OOM killer ends it: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
