using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Medic.E2E.Tests;

/// <summary><c>medic watch -f</c> as a real process, with no control plane: it heals a killed service and runs once per file.</summary>
public sealed class WatchTests
{
    private static readonly string ServiceDll = Path.Combine(AppContext.BaseDirectory, "medic-test-http.dll");

    private static async Task<string?> GetAsync(int port, string path)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        try
        {
            return await client.GetStringAsync($"http://127.0.0.1:{port}{path}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, Func<string> what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } value) return value;
            await Task.Delay(50);
        }

        throw new TimeoutException(what());
    }

    [Fact]
    public async Task Medic_watch_restarts_a_killed_service_reports_it_healed_and_refuses_a_second_instance()
    {
        using var home = new MedicHome();
        var port = MedicHome.FreePort();
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var watchFile = Path.Combine(home.Home, "watch.yaml");
        File.WriteAllText(watchFile, $"""
            state_dir: {home.Home}/watch-state
            monitors:
              - name: web
                kind: process
                start: ["{dotnet}", "{ServiceDll}", --port, "{port}"]
                health:
                  http: http://127.0.0.1:{port}/
                  timeout: 1s
                heal:
                  max_restarts: 5
                  window: 1m
                  delay: 100ms
                  retries: 100
            """);
        var output = new StringBuilder();
        using var watch = new Process { StartInfo = home.StartInfo("watch", "-f", watchFile) };
        watch.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        watch.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        watch.Start();
        watch.BeginOutputReadLine();
        watch.BeginErrorReadLine();
        string Output() { lock (output) return output.ToString(); }
        try
        {
            var firstPid = await EventuallyAsync(() => GetAsync(port, "/pid"), TimeSpan.FromSeconds(60), () => "the watched service never answered:\n" + Output());

            using (var kill = Process.Start("kill", ["-KILL", firstPid]))
            {
                await kill!.WaitForExitAsync();
            }

            var secondPid = await EventuallyAsync(async () => await GetAsync(port, "/pid") is { } pid && pid != firstPid ? pid : null, TimeSpan.FromSeconds(30), () => "the service was not restarted:\n" + Output());
            await EventuallyAsync(() => Task.FromResult(Output().Contains("incident resolved: web healed locally after 1 restart", StringComparison.Ordinal) ? "" : null), TimeSpan.FromSeconds(10), () => "no healed line:\n" + Output());
            secondPid.ShouldNotBe(firstPid);
            Output().ShouldContain($"incident opened: web: not running: pid {firstPid} killed by signal 9 (SIGKILL)");
            var report = Directory.GetFiles(Path.Combine(home.Home, "watch-state", "reports")).ShouldHaveSingleItem();
            File.ReadAllText(report).ShouldContain("- outcome: healed locally (web healed locally after 1 restart)");

            var second = await home.RunAsync("watch", "-f", watchFile);
            second.ExitCode.ShouldBe(2, second.ToString());
            second.Stderr.ShouldStartWith($"error: another medic watch (pid {watch.Id}) is already running for {watchFile}");
            second.Stderr.ShouldContain($"hint: stop it first (kill {watch.Id}), or watch another file");

            using (var term = Process.Start("kill", ["-TERM", watch.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term!.WaitForExitAsync();
            }

            using var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await watch.WaitForExitAsync(stopped.Token);
            watch.ExitCode.ShouldBe(0, Output());
            (await GetAsync(port, "/")).ShouldBeNull("stopping medic watch stops the service it supervises");
        }
        finally
        {
            if (!watch.HasExited) watch.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task Medic_watch_check_prints_what_it_would_watch_and_a_broken_file_is_one_error_line()
    {
        using var home = new MedicHome();
        var good = Path.Combine(home.Home, "good.yaml");
        File.WriteAllText(good, "monitors:\n  - { name: root, kind: disk, mount: /, max_percent: 90 }\n");
        var bad = Path.Combine(home.Home, "bad.yaml");
        File.WriteAllText(bad, "monitors:\n  - name: root\n    kind: disk\n    mount: /\n    max_pct: 90\n");

        var ok = await home.RunAsync("watch", "-f", good, "--check");
        var broken = await home.RunAsync("watch", "-f", bad);

        ok.ExitCode.ShouldBe(0, ok.ToString());
        ok.Stdout.ShouldContain("root                 disk      every 15s");
        broken.ExitCode.ShouldBe(2);
        broken.Stderr.ShouldBe($"error: {bad}, line 5: unknown setting 'max_pct' for a disk monitor (known: name, kind, interval, for, recover_after, severity, labels, timeout, mount, max_percent, max_inodes_percent, recover_below)\nhint: fix that line; the format is in docs/watch.md\n");
    }
}
