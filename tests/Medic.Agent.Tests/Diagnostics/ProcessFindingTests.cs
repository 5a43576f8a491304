using System.Globalization;
using Medic.Agent.Diagnostics;
using Medic.Agent.Tests.Monitors;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Diagnostics;

/// <summary>port-holder and stale-lock against real processes: a child listening on a port, pid files naming dead and live processes, a file held by flock.</summary>
public sealed class ProcessFindingTests
{
    private static string Text(int number) => number.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Port_holder_names_the_child_process_listening_on_the_port()
    {
        var port = TestService.FreePort();
        using var service = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(TestService.Dotnet) { ArgumentList = { TestService.Dll, "--port", Text(port) }, RedirectStandardOutput = true })!;
        try
        {
            await TestService.WaitUntilAsync(() => TestService.AnswersAsync(port), TimeSpan.FromSeconds(20), "the service did not answer");

            var result = await VerbHarness.Run("port-holder", ("port", Text(port)));

            result.Outcome.Status.ShouldBe(TaskStatus.Completed);
            var findings = FindingsHarness.Parse(result.Output);
            findings["pid"].ShouldBe(Text(service.Id));
            findings["process"].ShouldBe(File.ReadAllText($"/proc/{service.Id}/comm").Trim());
            findings["cmdline"].ShouldContain("medic-test-http.dll --port " + Text(port));
            var unit = ProcessFacts.UnitOf(File.ReadAllText($"/proc/{service.Id}/cgroup"));
            findings["holder"].ShouldBe(unit is null ? "process" : "unit");
            findings.GetValueOrDefault("unit").ShouldBe(unit);
            result.Output.ShouldContain($"pid {service.Id}  user ");
        }
        finally
        {
            service.Kill();
            await service.WaitForExitAsync();
        }
        FindingsHarness.Parse((await VerbHarness.Run("port-holder", ("port", Text(port)))).Output)["holder"].ShouldBe("none");
    }

    [Theory]
    [InlineData("0::/system.slice/nginx.service\n", "nginx.service")]
    [InlineData("0::/system.slice/app@blue.service/worker\n", "app@blue.service")]
    [InlineData("12:pids:/x\n1:name=systemd:/system.slice/redis.service\n", "redis.service")]
    [InlineData("0::/user.slice/user-1000.slice/session-3.scope\n", null)]
    [InlineData("0::/\n", null)]
    public void The_unit_comes_from_the_cgroup_path(string cgroup, string? unit) =>
        ProcessFacts.UnitOf(cgroup).ShouldBe(unit);

    [Fact]
    public async Task A_pid_file_naming_a_dead_process_is_stale()
    {
        using var scratch = new ScratchDirectory();
        using var exited = System.Diagnostics.Process.Start("true")!;
        await exited.WaitForExitAsync();
        var pidFile = scratch.File("app.pid", Text(exited.Id) + "\n");
        FindingsHarness.Age(pidFile, 2);

        var result = await VerbHarness.Run("stale-lock", ("path", pidFile));

        var findings = FindingsHarness.Parse(result.Output);
        findings["stale"].ShouldBe("true");
        findings["owner_pid"].ShouldBe(Text(exited.Id));
        findings["owner_alive"].ShouldBe("false");
        findings["age_days"].ShouldBe("2");
        result.Output.ShouldContain($"owner: pid {exited.Id} is not running: the file is stale.");
    }

    [Fact]
    public async Task A_pid_file_naming_a_live_process_is_not_stale_unless_it_is_another_program()
    {
        using var scratch = new ScratchDirectory();
        var sleeper = await FindingsHarness.StartShellAsync("echo ready; exec sleep 60");
        try
        {
            var pidFile = scratch.File("worker.pid", Text(sleeper.Id));

            var trusted = FindingsHarness.Parse((await VerbHarness.Run("stale-lock", ("path", pidFile))).Output);
            var expected = FindingsHarness.Parse((await VerbHarness.Run("stale-lock", ("path", pidFile), ("program", "sleep"))).Output);
            var reused = FindingsHarness.Parse((await VerbHarness.Run("stale-lock", ("path", pidFile), ("program", "nginx"))).Output);

            trusted["stale"].ShouldBe("false");
            trusted["owner_alive"].ShouldBe("true");
            trusted["owner_process"].ShouldBe("sleep");
            expected["stale"].ShouldBe("false");
            reused["stale"].ShouldBe("true");
            reused["owner_expected"].ShouldBe("false");
        }
        finally
        {
            await FindingsHarness.StopAsync(sleeper);
        }
    }

    [Fact]
    public async Task A_file_someone_holds_a_kernel_lock_on_is_in_use()
    {
        using var scratch = new ScratchDirectory();
        var lockFile = scratch.File("db.lock", "");
        var holder = await FindingsHarness.StartShellAsync("exec 9>\"$1\"; flock -x 9; echo ready; exec sleep 60", lockFile);
        try
        {
            var findings = FindingsHarness.Parse((await VerbHarness.Run("stale-lock", ("path", lockFile))).Output);

            findings["stale"].ShouldBe("false");
            findings["locked_by"].ShouldBe(Text(holder.Id));
        }
        finally
        {
            await FindingsHarness.StopAsync(holder);
        }
        // Nobody holds it now, and it names no pid: Medic cannot tell, and says so.
        FindingsHarness.Parse((await VerbHarness.Run("stale-lock", ("path", lockFile))).Output)["stale"].ShouldBe("unknown");
    }

    [Fact]
    public async Task A_missing_lock_file_is_nothing_to_remove()
    {
        var findings = FindingsHarness.Parse((await VerbHarness.Run("stale-lock", ("path", "/tmp/medic-no-such.lock"))).Output);

        findings["exists"].ShouldBe("false");
        findings["stale"].ShouldBe("false");
    }
}
