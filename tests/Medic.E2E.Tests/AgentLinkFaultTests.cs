using System.Diagnostics;
using System.Text.Json;

namespace Medic.E2E.Tests;

/// <summary>
/// What a user sees when the link between the control plane and an agent misbehaves: a task altered
/// on the way, the server restarting under connected agents, an agent dying mid-task, a task that
/// outlives its timeout. Real processes on loopback only.
/// </summary>
public sealed class AgentLinkFaultTests : IDisposable
{
    private readonly MedicHome _home = new();

    [Fact]
    public async Task A_task_altered_in_transit_is_refused_as_tampered_by_the_agent_and_audited_as_denied()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        await using var relay = new TamperingRelay(new Uri(server.Url).Port);
        var config = await _home.EnrollAgentAsync(relay.Url, "second");
        await using var agent = await _home.StartAgentAsync(config);
        await _home.WaitForStatusAsync("second", "online", TimeSpan.FromSeconds(30));

        // Through the untouched relay the task runs: whatever goes wrong next is the relay's doing.
        var clean = await _home.RunAsync("diag", "second", "system", "--timeout", "10", "--json");
        clean.ExitCode.ShouldBe(0, clean.ToString());
        var cleanResult = clean.TaskResult();
        cleanResult.GetProperty("status").GetString().ShouldBe("completed", clean.ToString());
        relay.Connections.ShouldBeGreaterThanOrEqualTo(1);

        relay.Tamper = true;
        var tampered = await _home.RunAsync("diag", "second", "system", "--timeout", "10", "--json");

        relay.TamperedPayloads.ShouldBe(1);
        var result = tampered.TaskResult();
        var taskId = result.GetProperty("task_id").GetString()!;
        result.GetProperty("status").GetString().ShouldBe("refused", tampered.ToString());
        result.GetProperty("reason").GetString()!.ShouldStartWith("tampered", customMessage: tampered.ToString(), caseSensitivity: Case.Sensitive);
        result.GetProperty("stdout").GetString().ShouldBeEmpty();
        tampered.ExitCode.ShouldBe(1, tampered.ToString());
        tampered.Stderr.ShouldContain("error: second: refused: tampered");

        await agent.WaitForOutputAsync($"medic-agent: refused task {taskId}: tampered", TimeSpan.FromSeconds(10));

        var audit = await _home.RunAsync("audit", "list", "--action", "server.diag", "--json");
        audit.ExitCode.ShouldBe(0, audit.ToString());
        var entries = JsonDocument.Parse(audit.Stdout).RootElement.GetProperty("items").EnumerateArray().ToList();
        var denied = entries.SingleOrDefault(e => e.GetProperty("details").GetProperty("task").GetString() == taskId);
        denied.ValueKind.ShouldBe(JsonValueKind.Object, "no server.diag audit entry for the tampered task:\n" + audit.Stdout);
        denied.GetProperty("outcome").GetString().ShouldBe("denied");
        denied.GetProperty("details").GetProperty("reason").GetString()!.ShouldStartWith("tampered", caseSensitivity: Case.Sensitive);
        entries.Single(e => e.GetProperty("details").GetProperty("task").GetString() == cleanResult.GetProperty("task_id").GetString())
            .GetProperty("outcome").GetString().ShouldBe("success");
    }

    [Fact]
    public async Task Connected_agents_are_online_again_within_30_s_of_a_server_restart_on_the_same_port_and_data()
    {
        _home.Environment["MEDIC_ADMIN_PASSWORD"] = "restart-password-1";
        var data = Path.Combine(_home.Home, "data");
        var url = $"http://127.0.0.1:{MedicHome.FreePort()}";
        var server = await MedicDaemon.StartServerAsync(_home, url, data);
        try
        {
            var login = await _home.RunWithInputAsync("restart-password-1\n", "login", "--server", url, "--password-stdin");
            login.ExitCode.ShouldBe(0, login.ToString());
            await using var alpha = await _home.StartAgentAsync(await _home.EnrollAgentAsync(url, "alpha"));
            await using var beta = await _home.StartAgentAsync(await _home.EnrollAgentAsync(url, "beta"));
            await _home.WaitForStatusAsync("alpha", "online", TimeSpan.FromSeconds(30));
            await _home.WaitForStatusAsync("beta", "online", TimeSpan.FromSeconds(30));

            (await server.StopAsync(TimeSpan.FromSeconds(10))).ShouldBe(0, server.Output);
            await server.DisposeAsync();
            await alpha.WaitForOutputAsync("medic-agent: link to", TimeSpan.FromSeconds(10));
            await beta.WaitForOutputAsync("medic-agent: link to", TimeSpan.FromSeconds(10));

            server = await MedicDaemon.StartServerAsync(_home, url, data);
            var restarted = Stopwatch.StartNew();

            // "online" alone could be left over from before the restart: each agent must also answer a task.
            foreach (var name in new[] { "alpha", "beta" })
            {
                await AnswersTasksAsync(name, TimeSpan.FromSeconds(30) - restarted.Elapsed);
            }

            restarted.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30));
            alpha.HasExited.ShouldBeFalse();
            beta.HasExited.ShouldBeFalse();
            MedicDaemon.Count(alpha.Output, "medic-agent: connected to").ShouldBe(2, alpha.Output);
            MedicDaemon.Count(beta.Output, "medic-agent: connected to").ShouldBe(2, beta.Output);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_node_that_dies_mid_task_fails_the_task_at_once_and_shows_offline()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        await using var agent = await _home.StartAgentAsync(await _home.EnrollAgentAsync(server.Url, "second"));
        await _home.WaitForStatusAsync("second", "online", TimeSpan.FromSeconds(30));
        using var silent = new SilentListener();

        var diag = _home.RunAsync("diag", "second", "http-probe", "url=" + silent.Url, "timeout=10", "--timeout", "30", "--json");
        await silent.WaitForConnectionAsync(TimeSpan.FromSeconds(20)); // the agent is inside the task now
        var killed = Stopwatch.StartNew();
        await agent.KillAsync();
        var run = await diag;

        // Prompt means well before the probe's own 10 s and the 45 s a lost task used to wait; 9 s leaves room for a loaded CI machine.
        killed.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(9), run.ToString());
        var result = run.TaskResult();
        result.GetProperty("status").GetString().ShouldBeOneOf(["offline", "failed"], run.ToString());
        result.GetProperty("reason").GetString()!.ShouldContain("agent", customMessage: run.ToString());
        run.ExitCode.ShouldBe(1, run.ToString());
        run.Stderr.ShouldContain("error: second: " + result.GetProperty("status").GetString());

        await _home.WaitForStatusAsync("second", "offline", TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task A_diag_that_outlives_its_timeout_comes_back_as_timeout_and_the_node_keeps_working()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        await using var agent = await _home.StartAgentAsync(await _home.EnrollAgentAsync(server.Url, "second"));
        await _home.WaitForStatusAsync("second", "online", TimeSpan.FromSeconds(30));
        using var silent = new SilentListener();

        var watch = Stopwatch.StartNew();
        var run = await _home.RunAsync("diag", "second", "http-probe", "url=" + silent.Url, "timeout=10", "--timeout", "2", "--json");

        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2 + 20), run.ToString());
        var result = run.TaskResult();
        result.GetProperty("status").GetString().ShouldBe("timeout", run.ToString());
        result.GetProperty("reason").GetString()!.ShouldContain("within", customMessage: run.ToString());
        run.ExitCode.ShouldBe(1, run.ToString());
        run.Stderr.ShouldContain("error: second: timeout");
        run.Stderr.ShouldContain("hint: raise --timeout");

        var next = await _home.RunAsync("diag", "second", "system", "--timeout", "10");
        next.ExitCode.ShouldBe(0, next.ToString());
    }

    private async Task AnswersTasksAsync(string name, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        CliRun? last = null;
        while (watch.Elapsed < within)
        {
            if (await _home.TryFindServerAsync(name) is { } entry && entry.GetProperty("status").GetString() == "online")
            {
                last = await _home.RunAsync("diag", name, "system", "--timeout", "5", "--json");
                if (last.ExitCode == 0) return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{name} did not answer a task within {within.TotalSeconds:0} s of the restart; last diag: {last}");
    }

    public void Dispose() => _home.Dispose();
}
