using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Medic.Bench.Fanout;

namespace Medic.Bench.Recovery;

/// <summary>
/// Time to recover: a tiny HTTP service (tests/Medic.TestHttpService) is killed with SIGKILL, or
/// frozen with SIGSTOP, and the clock runs from the signal to the first HTTP answer from a new
/// process. Supervised by <c>medic watch</c> (process monitor with an HTTP health check and heal),
/// and side by side by monit (Debian's package, installed with apt-get if missing) at its default
/// 30 s cycle and at <c>set daemon 5</c>, with a plain process check and with a port check.
/// </summary>
internal static partial class RecoveryBench
{
    private const int PR_SET_CHILD_SUBREAPER = 36;
    private const int SIGKILL = 9;
    private const int SIGSTOP = 19;
    private const int WNOHANG = 1;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMilliseconds(500) };

    public static async Task<int> RunAsync(string[] args)
    {
        var kills = Option(args, "--kills", 100);
        var hung = Option(args, "--hung", 10);
        var monitKills30 = Option(args, "--monit-kills", 10);
        var monitKills5 = Option(args, "--monit5-kills", 20);
        var hungLimit = TimeSpan.FromSeconds(Option(args, "--hung-limit", 60));
        var skipMonit = args.Contains("--skip-monit");
        var only = Value(args, "--only")?.Split(',') ?? ["medic", "monit30", "monit5", "monit5-hung", "monit5-port-hung"];
        var medicDll = Value(args, "--medic") ?? LocateMedic();
        var serviceDll = Path.Combine(AppContext.BaseDirectory, "medic-test-http.dll");
        var work = Directory.CreateTempSubdirectory("medic-recovery-").FullName;
        // Orphans (monit's double-forked start programs) reparent to this process, which reaps the
        // one it killed at once, as systemd would; otherwise a lingering zombie looks alive to a pidfile check.
        _ = Prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        Console.WriteLine($"recovery bench: {Environment.ProcessorCount} cores, medic {medicDll}, service {serviceDll}");
        Console.WriteLine($"kill -> first HTTP 200 from a new process, in ms\n");
        try
        {
            var rows = new List<string>();
            if (only.Contains("medic"))
            {
                await using var medic = await Supervisor.StartMedicAsync(medicDll, serviceDll, work);
                rows.Add(await MeasureAsync("medic watch, SIGKILL", medic.Port, SIGKILL, kills, TimeSpan.FromSeconds(30)));
                rows.Add(await MeasureAsync("medic watch, SIGSTOP (hung)", medic.Port, SIGSTOP, hung, TimeSpan.FromSeconds(30)));
            }

            if (!skipMonit && EnsureMonit() is { } monit)
            {
                foreach (var (name, cycle, portCheck, signal, count) in new[]
                {
                    ("monit30", 30, false, SIGKILL, monitKills30),
                    ("monit5", 5, false, SIGKILL, monitKills5),
                    ("monit5-hung", 5, false, SIGSTOP, 1),
                    ("monit5-port-hung", 5, true, SIGSTOP, 5),
                })
                {
                    if (!only.Contains(name)) continue;
                    await using var supervisor = await Supervisor.StartMonitAsync(monit, serviceDll, work, cycle, portCheck);
                    var what = $"monit {(cycle == 30 ? "default (30 s)" : "set daemon 5")}{(portCheck ? " + port check" : "")}, {(signal == SIGKILL ? "SIGKILL" : "SIGSTOP (hung)")}";
                    rows.Add(await MeasureAsync(what, supervisor.Port, signal, count, signal == SIGSTOP ? hungLimit : TimeSpan.FromSeconds(cycle * 3)));
                }
            }

            Console.WriteLine();
            Console.WriteLine($"| supervisor, fault | runs | recovered | p50 ms | p99 ms | max ms |");
            Console.WriteLine($"| --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var row in rows) Console.WriteLine(row);
            return 0;
        }
        catch (BenchFailure f)
        {
            Console.Error.WriteLine("error: " + f.Message);
            Console.Error.WriteLine("hint: " + f.Remedy);
            return 1;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<string> MeasureAsync(string what, int port, int signal, int runs, TimeSpan limit)
    {
        var times = new List<double>();
        var missed = 0;
        for (var i = 0; i < runs; i++)
        {
            var pid = await WaitForPidAsync(port, TimeSpan.FromMinutes(2), null) ?? throw new BenchFailure($"{what}: the service did not come back", "see the supervisor's log");
            _ = Kill(pid, signal);
            var clock = Stopwatch.StartNew();
            if (signal == SIGKILL) _ = WaitPid(pid, out _, 0);
            var next = await WaitForPidAsync(port, limit, pid);
            if (next is null)
            {
                missed++;
                Console.WriteLine($"  {what} #{i + 1}: not recovered within {limit.TotalSeconds:0} s");
                _ = Kill(pid, SIGKILL); // unfreeze the bench for the next run
                _ = WaitPid(pid, out _, 0);
                continue;
            }

            times.Add(clock.Elapsed.TotalMilliseconds);

            Console.WriteLine($"  {what} #{i + 1}: {clock.Elapsed.TotalMilliseconds:F0} ms");
            await Task.Delay(300);
        }

        var p = new Percentiles(times);
        string F(double v) => double.IsNaN(v) ? "-" : v.ToString("F0", CultureInfo.InvariantCulture);
        return $"| {what} | {runs} | {times.Count}{(missed > 0 ? $" ({missed} not within {limit.TotalSeconds:0} s)" : "")} | {F(p.P50)} | {F(p.P99)} | {F(p.Max)} |";
    }

    /// <summary>The pid the service reports, once it answers from a process other than <paramref name="not"/>.</summary>
    private static async Task<int?> WaitForPidAsync(int port, TimeSpan limit, int? not)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            try
            {
                var text = await Http.GetStringAsync($"http://127.0.0.1:{port}/pid");
                if (int.TryParse(text, out var pid) && pid != not) return pid;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (not is { } old) _ = WaitPid(old, out _, WNOHANG); // reap it at once if the supervisor killed it and it was orphaned to us
            await Task.Delay(5);
        }

        return null;
    }

    private static string? EnsureMonit()
    {
        if (File.Exists("/usr/bin/monit")) return "/usr/bin/monit";
        Console.WriteLine("monit is not installed: apt-get install -y monit");
        using var apt = Process.Start(new ProcessStartInfo("apt-get", ["install", "-y", "-q", "monit"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        apt.WaitForExit();
        if (apt.ExitCode == 0 && File.Exists("/usr/bin/monit")) return "/usr/bin/monit";
        Console.WriteLine($"could not install monit (apt-get exit {apt.ExitCode}: {apt.StandardError.ReadToEnd().Trim()}); its rows are skipped");
        return null;
    }

    private static string LocateMedic()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Medic.slnx"))) continue;
            var dll = Path.Combine(dir.FullName, "src", "Medic.Cli", "bin", "Release", "net10.0", "medic.dll");
            return File.Exists(dll) ? dll : throw new BenchFailure($"no Release build of medic at {dll}", "build it first: dotnet build -c Release src/Medic.Cli");
        }

        throw new BenchFailure("cannot find the Medic repository (Medic.slnx)", "pass --medic PATH/medic.dll");
    }

    private static int Option(string[] args, string name, int fallback) =>
        Value(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string? Value(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "waitpid")]
    private static partial int WaitPid(int pid, out int status, int options);
}

/// <summary>A supervisor under test (medic watch or monit) with the service it keeps up; disposing stops both.</summary>
internal sealed class Supervisor : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _pidfile;

    private Supervisor(Process process, int port, string pidfile)
    {
        _process = process;
        Port = port;
        _pidfile = pidfile;
    }

    public int Port { get; }

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "/usr/bin/dotnet";

    public static async Task<Supervisor> StartMedicAsync(string medicDll, string serviceDll, string work)
    {
        var port = FreePort();
        var dir = Directory.CreateDirectory(Path.Combine(work, "medic")).FullName;
        var watchFile = Path.Combine(dir, "watch.yaml");
        await File.WriteAllTextAsync(watchFile, $"""
            state_dir: {dir}/state
            monitors:
              - name: web
                kind: process
                start: ["{Dotnet}", "{serviceDll}", --port, "{port}"]
                health:
                  http: http://127.0.0.1:{port}/
                  timeout: 500ms
                  failures: 2
                heal:
                  max_restarts: 1000
                  window: 1m
                  retries: 200
                  delay: 50ms
            """);
        var process = Process.Start(new ProcessStartInfo(Dotnet, [medicDll, "watch", "-f", watchFile]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("medic watch: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Console.WriteLine($"medic watch (pid {process.Id}) supervises the service on port {port}: process monitor, 1 s interval, HTTP health check (500 ms timeout, 2 failures = hung)");
        return new Supervisor(process, port, Path.Combine(dir, "none"));
    }

    public static async Task<Supervisor> StartMonitAsync(string monit, string serviceDll, string work, int cycle, bool portCheck)
    {
        var port = FreePort();
        var dir = Directory.CreateDirectory(Path.Combine(work, $"monit-{cycle}-{portCheck}-{port}")).FullName;
        var pidfile = Path.Combine(dir, "service.pid");
        var config = Path.Combine(dir, "monitrc");
        // monit waits for a start program to exit (and kills it after the timeout): the service goes to the background.
        await File.WriteAllTextAsync(config, $"""
            set daemon {cycle}
            set logfile {dir}/monit.log
            set pidfile {dir}/monit.pid
            set idfile {dir}/monit.id
            set statefile {dir}/monit.state
            check process service with pidfile {pidfile}
              start program = "/bin/sh -c '{Dotnet} {serviceDll} --port {port} --pidfile {pidfile} >/dev/null 2>&1 &'" with timeout 30 seconds
              stop program = "/bin/sh -c 'kill -9 $(cat {pidfile})'"
            {(portCheck ? $"  if failed port {port} protocol http request \"/\" with timeout 2 seconds then restart" : "")}
            """);
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var process = Process.Start(new ProcessStartInfo(monit, ["-I", "-c", config]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Console.WriteLine($"monit (pid {process.Id}) supervises the service on port {port}: set daemon {cycle}, check process with pidfile{(portCheck ? " + if failed port ... protocol http then restart" : "")}");
        return new Supervisor(process, port, pidfile);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(); // SIGKILL for monit; medic watch would stop its child on SIGTERM, but its child is killed below either way
            await _process.WaitForExitAsync();
        }

        // The service outlives a killed supervisor: stop it by the pid it reports.
        try
        {
            var text = await new HttpClient { Timeout = TimeSpan.FromSeconds(1) }.GetStringAsync($"http://127.0.0.1:{Port}/pid");
            if (int.TryParse(text, out var pid)) Process.GetProcessById(pid).Kill();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ArgumentException or InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
