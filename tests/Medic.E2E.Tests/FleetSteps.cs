using System.Diagnostics;
using System.Text.Json;

namespace Medic.E2E.Tests;

/// <summary>The steps a fleet test takes with the real CLI: enroll an agent, run it, wait for what <c>medic servers list</c> shows.</summary>
public static class FleetSteps
{
    /// <summary>Creates a one-use enrollment token and enrolls an agent named <paramref name="name"/> against <paramref name="serverUrl"/>; returns its config path.</summary>
    public static async Task<string> EnrollAgentAsync(this MedicHome home, string serverUrl, string name)
    {
        var created = await home.RunAsync("enroll-token", "create", "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var token = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("secret").GetString()!;
        var config = Path.Combine(home.Home, name, "agent.json");
        var enroll = await home.RunAsync("agent", "enroll", "--server", serverUrl, "--token", token, "--name", name, "--config", config);
        enroll.ExitCode.ShouldBe(0, enroll.ToString());
        return config;
    }

    /// <summary>Runs <c>medic agent run</c> for an enrolled agent as its own process and waits until it says it connected.</summary>
    public static async Task<MedicDaemon> StartAgentAsync(this MedicHome home, string config)
    {
        var agent = MedicDaemon.Start(home, "agent", "run", "--config", config, "--policy", Path.Combine(Path.GetDirectoryName(config)!, "policy.yaml"));
        try
        {
            await agent.WaitForOutputAsync("medic-agent: connected to", TimeSpan.FromSeconds(30));
            return agent;
        }
        catch
        {
            await agent.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls <c>medic servers list --json</c> until the named server has <paramref name="status"/>; returns its entry.</summary>
    public static async Task<JsonElement> WaitForStatusAsync(this MedicHome home, string name, string status, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        JsonElement last = default;
        while (true)
        {
            if (await home.TryFindServerAsync(name) is { } server)
            {
                last = server;
                if (server.GetProperty("status").GetString() == status) return server;
            }

            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"server {name} was not {status} within {timeout.TotalSeconds:0} s; last seen: {last}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The named server's entry in <c>medic servers list --json</c>, or null while the control plane does not answer or does not list it.</summary>
    public static async Task<JsonElement?> TryFindServerAsync(this MedicHome home, string name)
    {
        var run = await home.RunAsync("servers", "list", "--json");
        if (run.ExitCode != 0) return null;
        foreach (var server in JsonDocument.Parse(run.Stdout).RootElement.EnumerateArray())
        {
            if (server.GetProperty("name").GetString() == name) return server.Clone();
        }

        return null;
    }

    /// <summary>The <c>--json</c> result of a <c>medic diag</c> run.</summary>
    public static JsonElement TaskResult(this CliRun run)
    {
        try
        {
            return JsonDocument.Parse(run.Stdout).RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new ShouldAssertException("medic diag --json did not print a task result:\n" + run, ex);
        }
    }
}
