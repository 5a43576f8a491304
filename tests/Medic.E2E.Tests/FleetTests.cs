using System.Diagnostics;
using System.Text.Json;

namespace Medic.E2E.Tests;

/// <summary><c>medic up</c> enrolls its own machine; a second agent enrolls with a token; diag runs through the agents.</summary>
public sealed class FleetTests : IDisposable
{
    private readonly MedicHome _home = new();

    private async Task<JsonElement> WaitForServerAsync(string name, Func<JsonElement, bool> condition)
    {
        var watch = Stopwatch.StartNew();
        JsonElement last = default;
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            var run = await _home.RunAsync("servers", "list", "--json");
            run.ExitCode.ShouldBe(0, run.ToString());
            foreach (var server in JsonDocument.Parse(run.Stdout).RootElement.EnumerateArray())
            {
                if (server.GetProperty("name").GetString() == name)
                {
                    last = server.Clone();
                    if (condition(last)) return last;
                }
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"server {name} did not reach the expected state within 30 s; last seen: {last}");
    }

    [Fact]
    public async Task Up_shows_this_machine_online_with_facts_and_diag_runs_on_it()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        server.Stdout.ShouldContain("Agent:");
        var hostname = Environment.MachineName;

        var local = await WaitForServerAsync(hostname, s => s.GetProperty("status").GetString() == "online" && s.GetProperty("metrics").ValueKind == JsonValueKind.Object);

        var facts = local.GetProperty("facts");
        facts.GetProperty("cpus").GetInt32().ShouldBe(Environment.ProcessorCount);
        facts.GetProperty("kernel").GetString().ShouldNotBeNullOrEmpty();
        local.GetProperty("metrics").GetProperty("memory_total_bytes").GetInt64().ShouldBeGreaterThan(0);

        var history = await _home.RunAsync("servers", "metrics", hostname, "--since", "1h", "--json");
        history.ExitCode.ShouldBe(0, history.ToString());
        var points = JsonDocument.Parse(history.Stdout).RootElement.GetProperty("points");
        points.GetArrayLength().ShouldBeInRange(1, 2); // a second heartbeat 15 s later may fall in the next minute
        points[0].GetProperty("metrics").GetProperty("memory_total_bytes").GetInt64().ShouldBeGreaterThan(0);
        var minute = points[0].GetProperty("minute").GetDateTimeOffset();
        (minute.Second, minute.Millisecond).ShouldBe((0, 0));

        var disk = await _home.RunAsync("diag", hostname, "disk");
        disk.ExitCode.ShouldBe(0, disk.ToString());
        disk.Stdout.ShouldContain("/");

        var bad = await _home.RunAsync("diag", hostname, "service-status", "unit=nginx; rm -rf /");
        bad.ExitCode.ShouldBe(1, bad.ToString());
        bad.Stderr.ShouldContain("error:");
    }

    [Fact]
    public async Task A_second_agent_enrolled_with_a_token_appears_with_its_tags_and_goes_offline_when_stopped()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        var created = await _home.RunAsync("enroll-token", "create", "--tags", "env=test,role=web", "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var token = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("secret").GetString()!;
        var agentConfig = Path.Combine(_home.Home, "second", "agent.json");

        var enroll = await _home.RunAsync("agent", "enroll", "--server", server.Url, "--token", token, "--name", "second", "--tags", "zone=a", "--config", agentConfig);
        enroll.ExitCode.ShouldBe(0, enroll.ToString());
        File.GetUnixFileMode(agentConfig).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var reuse = await _home.RunAsync("agent", "enroll", "--server", server.Url, "--token", token, "--name", "third", "--config", agentConfig + ".3");
        reuse.ExitCode.ShouldBe(2, reuse.ToString());
        reuse.Stderr.ShouldContain("used 1 of 1");

        using var agent = Process.Start(_home.StartInfo("agent", "run", "--config", agentConfig, "--policy", Path.Combine(_home.Home, "second", "policy.yaml")))!;
        try
        {
            var second = await WaitForServerAsync("second", s => s.GetProperty("status").GetString() == "online");
            var tags = second.GetProperty("tags");
            tags.GetProperty("env").GetString().ShouldBe("test");
            tags.GetProperty("role").GetString().ShouldBe("web");
            tags.GetProperty("zone").GetString().ShouldBe("a");

            var filtered = await _home.RunAsync("servers", "list", "--tag", "role=web", "--json");
            JsonDocument.Parse(filtered.Stdout).RootElement.EnumerateArray().Select(s => s.GetProperty("name").GetString()).ShouldBe(["second"]);
        }
        finally
        {
            agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();
        }

        await WaitForServerAsync("second", s => s.GetProperty("status").GetString() == "offline");
        var audit = await _home.RunAsync("audit", "list", "--action", "server.offline", "--json");
        audit.Stdout.ShouldContain("second");
    }

    [Fact]
    public async Task Exec_prints_one_line_per_matching_server_and_a_policy_refusal_names_its_rule()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        var hostname = Environment.MachineName;
        var token = JsonDocument.Parse((await _home.RunAsync("enroll-token", "create", "--tags", "role=web", "--json")).Stdout).RootElement.GetProperty("secret").GetString()!;
        var agentConfig = Path.Combine(_home.Home, "web", "agent.json");
        (await _home.RunAsync("agent", "enroll", "--server", server.Url, "--token", token, "--name", "web-1", "--config", agentConfig)).ExitCode.ShouldBe(0);
        using var agent = Process.Start(_home.StartInfo("agent", "run", "--config", agentConfig, "--policy", Path.Combine(_home.Home, "web", "no-policy.yaml")))!;
        try
        {
            await WaitForServerAsync("web-1", s => s.GetProperty("status").GetString() == "online");
            await WaitForServerAsync(hostname, s => s.GetProperty("status").GetString() == "online");

            var local = await _home.RunAsync("exec", "echo hi", "--server", hostname);
            local.ExitCode.ShouldBe(0, local.ToString());
            local.Stdout.ShouldBe($"{hostname}: hi\n");

            // web-1 runs with the default policy, which does not grant exec.
            var refused = await _home.RunAsync("exec", "echo hi", "--tag", "role=web");
            refused.ExitCode.ShouldBe(1, refused.ToString());
            refused.Stdout.ShouldStartWith("web-1: [refused] policy: this node does not grant 'exec'");

            var dry = await _home.RunAsync("exec", "echo hi", "--all", "--dry-run", "--json");
            JsonDocument.Parse(dry.Stdout).RootElement.GetProperty("targets").EnumerateArray().Select(t => t.GetString()).Order().ShouldBe(new[] { hostname, "web-1" }.Order());

            var serial = await _home.RunAsync("exec", "echo $((6*7))", "--all", "--serial", "--json");
            serial.ExitCode.ShouldBe(1, serial.ToString());
            var results = JsonDocument.Parse(serial.Stdout).RootElement.GetProperty("results").EnumerateArray().ToList();
            results.Count.ShouldBe(2);
            results.Single(r => r.GetProperty("server").GetString() == hostname).GetProperty("stdout").GetString().ShouldBe("42\n");

            var unselected = await _home.RunAsync("exec", "echo hi");
            unselected.ExitCode.ShouldBe(2, unselected.ToString());
            unselected.Stderr.ShouldContain("no servers chosen: name them with --server, --tag, --env, --group or --all");
        }
        finally
        {
            agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();
        }
    }

    public void Dispose() => _home.Dispose();
}
