using Medic.Agent.Host;

namespace Medic.Agent.Tests.Host;

public sealed class ProcessSamplerTests
{
    [Theory]
    [InlineData("0::/system.slice/shop.service\n", "shop.service")]
    [InlineData("0::/system.slice/system-shop.slice/shop@blue.service\n", "shop@blue.service")]
    [InlineData("12:pids:/system.slice/nginx.service\n1:name=systemd:/system.slice/nginx.service\n0::/\n", "nginx.service")]
    [InlineData("12:pids:/system.slice/nginx.service\n1:name=systemd:/system.slice/nginx.service\n", "nginx.service")]
    [InlineData("0::/user.slice/user-1000.slice/session-3.scope\n", null)]
    [InlineData("0::/user.slice/user-1000.slice/user@1000.service/app.slice/app.service\n", null)]
    [InlineData("0::/user.slice/user-1000.slice/user@1000.service/init.scope\n", null)]
    [InlineData("0::/system.slice/docker-4f1e.scope\n", null)]
    [InlineData("", null)]
    public void The_unit_is_the_innermost_system_service_of_the_cgroup(string cgroup, string? unit) =>
        ProcessSampler.UnitOf(cgroup).ShouldBe(unit);

    [Fact]
    public void Stat_gives_cpu_ticks_start_and_resident_bytes_even_when_the_name_holds_parentheses()
    {
        const string stat = "4242 (my (odd) app) R 1 4242 4242 0 -1 4194304 100 0 0 0 750 250 0 0 20 0 3 0 123456 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";

        var times = ProcessSampler.ParseTimes(stat)!.Value;

        (times.Pid, times.Command, times.State, times.ParentPid, times.CpuTicks, times.StartTicks).ShouldBe((4242, "my (odd) app", 'R', 1, 1000UL, 123456UL));
        times.RssBytes.ShouldBe(2560L * Environment.SystemPageSize);
    }

    [Fact]
    public void This_process_is_identified_by_its_own_proc_entries()
    {
        var who = ProcessSampler.Identify(Environment.ProcessId)!;

        who.User.ShouldBe(Environment.UserName);
        who.WorkingDirectory.ShouldBe(Environment.CurrentDirectory);
        who.CommandLine.ShouldContain("Medic.Agent.Tests");
        ProcessSampler.Identify(int.MaxValue).ShouldBeNull("no such process");
    }
}
