using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Medic.Bench.Fanout;

namespace Medic.Bench.Efficacy;

/// <summary>
/// What one scenario creates (processes, tmpfs mounts, files, a <c>medic up</c>), undone in reverse
/// order on dispose whatever happened, so a failed scenario leaves nothing behind.
/// </summary>
internal sealed class ScenarioContext(string medicDll, string serviceDll, string work, bool keep) : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMilliseconds(1500) };
    private readonly Stack<Func<Task>> _undo = new();

    public string Work { get; } = work;

    public string ServiceDll { get; } = serviceDll;

    public MedicUp? Medic { get; private set; }

    public Stopwatch SinceFault { get; } = new();

    public async Task<MedicUp> StartMedicAsync(string monitorsYaml, string? triageRules = null)
    {
        var home = Directory.CreateDirectory(Path.Combine(Work, "home")).FullName;
        var medic = await MedicUp.StartAsync(medicDll, home, monitorsYaml, TimeSpan.FromSeconds(90));
        _undo.Push(async () => await medic.DisposeAsync());
        Medic = medic;
        if (triageRules is not null) await medic.PutTriageRulesAsync(triageRules);
        return medic;
    }

    /// <summary>The test service's argv for a monitor's <c>start</c>, as a YAML flow list.</summary>
    public string ServiceArgv(params string[] args) =>
        "[" + string.Join(", ", new[] { MedicUp.Dotnet, ServiceDll }.Concat(args).Select(a => "\"" + a + "\"")) + "]";

    /// <summary>Starts a process the scenario owns (in its own process group); killed with its group at the end.</summary>
    public Process Spawn(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _undo.Push(async () =>
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        });
        return process;
    }

    /// <summary>A tmpfs of its own (root only), unmounted and removed at the end.</summary>
    public async Task<string> MountTmpfsAsync(string name, string options)
    {
        var dir = Directory.CreateDirectory(Path.Combine(Work, name)).FullName;
        await RunAsync("mount", "-t", "tmpfs", "-o", options, "medic-efficacy", dir);
        _undo.Push(async () =>
        {
            await RunAsync("umount", "-l", dir);
            Directory.Delete(dir, recursive: true);
        });
        return dir;
    }

    public void OnCleanup(Func<Task> undo) => _undo.Push(undo);

    /// <summary>Writes <paramref name="megabytes"/> MiB of zeros, dated <paramref name="daysOld"/> days ago.</summary>
    public static async Task WriteFileAsync(string path, int megabytes, double daysOld)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var f = File.Create(path))
        {
            var block = new byte[1 << 20];
            for (var i = 0; i < megabytes; i++) await f.WriteAsync(block);
        }

        var when = DateTime.UtcNow.AddDays(-daysOld);
        File.SetLastWriteTimeUtc(path, when);
    }

    public static double UsedPercent(string mount)
    {
        var st = Scenarios.StatVfs(mount);
        return st.Blocks == 0 ? 0 : 100.0 * (st.Blocks - st.Bfree) / st.Blocks;
    }

    public static double InodesUsedPercent(string mount)
    {
        var st = Scenarios.StatVfs(mount);
        return st.Files == 0 ? 0 : 100.0 * (st.Files - st.FilesFree) / st.Files;
    }

    public static async Task<int?> PidAsync(int port)
    {
        try
        {
            return int.TryParse(await Http.GetStringAsync($"http://127.0.0.1:{port}/pid"), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public static Task HangAsync(int port) => GetAsync(port, "/hang");

    public static async Task GetAsync(int port, string path)
    {
        try
        {
            _ = await Http.GetStringAsync($"http://127.0.0.1:{port}{path}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
        }
    }

    public static async Task<int> WaitForPidAsync(int port, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (await PidAsync(port) is { } pid) return pid;
            await Task.Delay(200);
        }

        throw new BenchFailure($"the service on port {port} did not answer within {limit.TotalSeconds:0} s", "see the medic up log (--keep keeps it)");
    }

    public static bool Alive(int pid) => Directory.Exists($"/proc/{pid}") && !(File.ReadAllText($"/proc/{pid}/stat").Split(") ")[^1].StartsWith('Z'));

    public static async Task<int> RunAsync(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEndAsync();
        _ = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new BenchFailure($"{file} {string.Join(' ', args)}: exit {p.ExitCode}: {(await err).Trim()}", "the efficacy suite runs as root on Linux");
        return p.ExitCode;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static bool LabelIs(JsonElement incident, string label, string value) =>
        incident.TryGetProperty("labels", out var labels) && labels.ValueKind == JsonValueKind.Object
        && labels.TryGetProperty(label, out var v) && v.GetString() == value;

    public async ValueTask DisposeAsync()
    {
        if (keep && Medic is not null) Console.WriteLine($"    kept: {Work} (medic up log lines: {Medic.Log.Split('\n').Length})");
        if (keep && Medic is not null) await File.WriteAllTextAsync(Path.Combine(Work, "medic-up.log"), Medic.Log);
        while (_undo.TryPop(out var undo))
        {
            try
            {
                await undo();
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"    cleanup: {e.Message}");
            }
        }

        if (!keep && Directory.Exists(Work)) Directory.Delete(Work, recursive: true);
    }
}
