using System.Text.Json;
using Medic.Server.Tests.Infrastructure;

namespace Medic.E2E.Tests;

/// <summary>An agentless server added with <c>medic servers add</c> next to <c>medic up</c>'s own agent: one exec reaches both.</summary>
public sealed class AgentlessTests : IDisposable
{
    private readonly MedicHome _home = new();

    [Fact]
    public async Task One_exec_reaches_an_agent_and_an_agentless_server_and_each_answers_in_its_own_line()
    {
        await using var sshd = await Sshd.StartAsync();
        await using var server = await RunningServer.StartAsync(_home, "up");
        var hostname = Environment.MachineName;
        await _home.WaitForStatusAsync(hostname, "online", TimeSpan.FromSeconds(30));
        var keyDir = Path.Combine(_home.Home, ".medic", "ssh", "keys", "default");
        Directory.CreateDirectory(keyDir);
        File.Copy(sshd.UserKey, Path.Combine(keyDir, "legacy"));
        File.SetUnixFileMode(Path.Combine(keyDir, "legacy"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var neither = await _home.RunAsync("servers", "add", "legacy", "--address", sshd.Address, "--user", Sshd.User, "--key", "legacy");
        neither.ExitCode.ShouldBe(2, neither.ToString());
        neither.Stderr.ShouldContain("hint: ");

        var add = await _home.RunAsync("servers", "add", "legacy", "--address", sshd.Address, "--user", Sshd.User, "--key", "legacy", "--host-key", sshd.HostKey, "--tags", "role=old");
        add.ExitCode.ShouldBe(0, add.ToString());
        add.Stdout.ShouldContain("Added agentless server legacy");

        var list = await _home.RunAsync("servers", "list");
        list.Stdout.ShouldContain("KIND");
        list.Stdout.Split('\n').Single(l => l.StartsWith("legacy ", StringComparison.Ordinal)).ShouldContain("agentless");

        var exec = await _home.RunAsync("exec", "echo hi", "--all");
        exec.ExitCode.ShouldBe(0, exec.ToString());
        exec.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ShouldBe(new[] { $"{hostname}: hi", "legacy: hi" }.Order(StringComparer.Ordinal));

        var json = await _home.RunAsync("exec", "exit 4", "--all", "--json");
        json.ExitCode.ShouldBe(1, json.ToString());
        var results = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("results").EnumerateArray().ToList();
        results.Select(r => (r.GetProperty("status").GetString(), r.GetProperty("exit_code").GetInt32())).ShouldAllBe(r => r.Item1 == "completed" && r.Item2 == 4);
        results.Count.ShouldBe(2);

        var show = await _home.RunAsync("servers", "show", "legacy");
        show.Stdout.ShouldContain($"agentless, reached over ssh as {Sshd.User}@{sshd.Address}");

        var diag = await _home.RunAsync("diag", "legacy", "disk");
        diag.ExitCode.ShouldNotBe(0, diag.ToString());
        diag.Stderr.ShouldContain("agent");
    }

    public void Dispose() => _home.Dispose();
}
