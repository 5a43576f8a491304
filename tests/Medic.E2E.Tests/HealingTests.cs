using System.Diagnostics;
using System.Text.Json;

namespace Medic.E2E.Tests;

/// <summary>
/// A process monitored by <c>medic up</c>'s own agent is killed: the agent restarts it at once,
/// and the control plane shows an incident opened and resolved "healed locally", with evidence.
/// </summary>
public sealed class HealingTests : IDisposable
{
    private static readonly string ServiceDll = Path.Combine(AppContext.BaseDirectory, "medic-test-http.dll");
    private readonly MedicHome _home = new();

    private static async Task<string?> PidAsync(int port)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        try
        {
            return await client.GetStringAsync($"http://127.0.0.1:{port}/pid");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, Func<string> what)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } value) return value;
            await Task.Delay(100);
        }

        throw new TimeoutException(what());
    }

    [Fact]
    public async Task Killing_a_monitored_process_on_a_medic_up_machine_heals_it_and_records_the_incident()
    {
        var port = MedicHome.FreePort();
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var dataDir = Path.Combine(_home.Home, ".medic");
        Directory.CreateDirectory(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(dataDir, "monitors.yaml"), $"""
            monitors:
              - name: shop
                kind: process
                start: ["{dotnet}", "{ServiceDll}", --port, "{port}"]
                labels: {"{"} team: shop {"}"}
                health:
                  http: http://127.0.0.1:{port}/
                  timeout: 1s
                heal:
                  max_restarts: 5
                  window: 1m
                  delay: 100ms
                  retries: 100
            """);
        await using var server = await RunningServer.StartAsync(_home, "up");
        var firstPid = await EventuallyAsync(() => PidAsync(port), TimeSpan.FromSeconds(60), () => "the monitored service never answered:\n" + server.Stdout + server.Stderr);

        var killedAt = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-KILL", firstPid]))
        {
            await kill!.WaitForExitAsync();
        }

        await EventuallyAsync(async () => await PidAsync(port) is { } pid && pid != firstPid ? pid : null, TimeSpan.FromSeconds(30), () => "not restarted:\n" + server.Stdout);
        killedAt.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10), "back within seconds");

        var incident = await EventuallyAsync(async () =>
        {
            var list = await _home.RunAsync("incidents", "list", "--source", "agent", "--json");
            var items = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("items");
            return items.GetArrayLength() == 1 && items[0].GetProperty("status").GetString() == "resolved" ? items[0].GetRawText() : null;
        }, TimeSpan.FromSeconds(30), () => "no resolved agent incident:\n" + server.Stdout);

        var i = JsonDocument.Parse(incident).RootElement;
        i.GetProperty("resolution").GetString().ShouldBe("healed locally (agent)");
        i.GetProperty("type").GetString().ShouldBe("service_down");
        i.GetProperty("server").GetString().ShouldBe(Environment.MachineName);
        i.GetProperty("labels").GetProperty("team").GetString().ShouldBe("shop");
        var show = await _home.RunAsync("incidents", "show", i.GetProperty("id").GetString()!);
        show.ExitCode.ShouldBe(0, show.ToString());
        show.Stdout.ShouldContain($"pid {firstPid} killed by signal 9 (SIGKILL)");
        show.Stdout.ShouldContain("healed locally (agent)");
        var audit = await _home.RunAsync("audit", "list", "--action", "incident.resolve", "--json");
        audit.Stdout.ShouldContain("agent:");
    }

    [Fact]
    public async Task A_monitor_set_from_the_cli_is_pushed_to_the_agent_which_supervises_and_heals_the_process()
    {
        var port = MedicHome.FreePort();
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        await using var server = await RunningServer.StartAsync(_home, "up");
        var me = Environment.MachineName;
        await EventuallyAsync(async () => (await _home.RunAsync("servers", "show", me, "--json")).Stdout.Contains("\"status\": \"online\"", StringComparison.Ordinal) ? "" : null,
            TimeSpan.FromSeconds(30), () => "the local agent did not come online:\n" + server.Stdout);

        var add = await _home.RunAsync("monitors", "add", "shop", "--server", me, "--kind", "process", "--start", $"'{dotnet}' '{ServiceDll}' --port {port}",
            "--health-http", $"http://127.0.0.1:{port}/", "--heal");
        add.ExitCode.ShouldBe(0, add.ToString());
        var firstPid = await EventuallyAsync(() => PidAsync(port), TimeSpan.FromSeconds(60), () => "the pushed monitor never started the service:\n" + server.Stdout);
        var listed = await _home.RunAsync("monitors", "list");
        listed.Stdout.ShouldContain("shop");
        listed.Stdout.ShouldContain(me);
        (await _home.RunAsync("audit", "list", "--action", "monitors.push", "--json")).Stdout.ShouldContain("\"success\"");

        using (var kill = Process.Start("kill", ["-KILL", firstPid]))
        {
            await kill!.WaitForExitAsync();
        }

        await EventuallyAsync(async () => await PidAsync(port) is { } pid && pid != firstPid ? pid : null, TimeSpan.FromSeconds(30), () => "not restarted:\n" + server.Stdout);
        await EventuallyAsync(async () => (await _home.RunAsync("incidents", "list", "--source", "agent", "--status", "resolved")).Stdout.Contains("shop", StringComparison.Ordinal) ? "" : null,
            TimeSpan.FromSeconds(30), () => "no resolved incident:\n" + server.Stdout);

        var removed = await _home.RunAsync("monitors", "remove", "shop");
        removed.ExitCode.ShouldBe(0, removed.ToString());
        await EventuallyAsync(async () => await PidAsync(port) is null ? "" : null, TimeSpan.FromSeconds(30), () => "removing the monitor did not stop the supervised service");

        // A monitor for a tag reaches the server once the server gets the tag.
        var tagged = await _home.RunAsync("monitors", "add", "shop-web", "--tag", "role=web", "--kind", "process", "--start", $"'{dotnet}' '{ServiceDll}' --port {port}", "--heal");
        tagged.ExitCode.ShouldBe(0, tagged.ToString());
        await Task.Delay(1000);
        (await PidAsync(port)).ShouldBeNull("the server does not carry role=web yet");
        (await _home.RunAsync("servers", "tag", me, "role=web")).ExitCode.ShouldBe(0);
        await EventuallyAsync(() => PidAsync(port), TimeSpan.FromSeconds(30), () => "tagging the server did not bring it the tag's monitor:\n" + server.Stdout);

        var bad = await _home.RunAsync("monitors", "add", "x", "--server", me, "--kind", "teapot");
        bad.ExitCode.ShouldBe(2);
        bad.Stderr.ShouldContain("--kind 'teapot' is not known");
    }

    public void Dispose() => _home.Dispose();
}
