using Medic.Agent.Diagnostics;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Diagnostics;

public sealed class ServiceVerbTests
{
    [Fact]
    public async Task Service_status_reports_the_unit_or_says_systemd_is_not_running()
    {
        var result = await VerbHarness.Run("service-status", ("unit", "medic-test-no-such.service"));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        if (ServiceVerbs.SystemdIsRunning)
        {
            result.Outcome.ExitCode.ShouldBe(4); // systemctl: no such unit
        }
        else
        {
            result.Outcome.ExitCode.ShouldBeNull();
            result.Output.ShouldStartWith("systemd is not running on this machine (PID 1 is '");
            result.Output.ShouldEndWith("'); service status needs systemd.\n");
            result.Outcome.Reason.ShouldBe(result.Output.TrimEnd('\n'));
        }
    }

    [Fact]
    public async Task Journal_shows_a_units_lines_or_says_there_is_no_journal()
    {
        var result = await VerbHarness.Run("journal", ("unit", "medic-test-no-such.service"), ("lines", "5"));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        if (ServiceVerbs.JournalExists())
        {
            result.Outcome.ExitCode.ShouldBe(0);
        }
        else
        {
            result.Outcome.ExitCode.ShouldBeNull();
            result.Output.ShouldContain("there is no systemd journal on this machine");
        }
    }

    [Fact]
    public async Task Oom_kills_reads_the_kernel_log_and_names_its_source()
    {
        var result = await VerbHarness.Run("oom-kills");

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        if (result.Outcome.ExitCode == 0)
        {
            result.Output.ShouldMatch(@"^source: (journalctl -k|dmesg) \(kernel messages since boot\)\n(no out-of-memory kills found|\d+ out-of-memory lines?; )");
            // On this machine (no journal): the kernel journal is skipped for dmesg.
            if (!ServiceVerbs.JournalExists())
            {
                result.Output.ShouldStartWith("source: dmesg");
            }
        }
        else
        {
            result.Outcome.ExitCode.ShouldBeNull();
            result.Output.ShouldStartWith("the kernel log is not readable here: ");
        }
    }

    [Theory]
    [InlineData("[ 1234.5678] Out of memory: Killed process 4242 (java) total-vm:9000kB, anon-rss:8000kB", true)]
    [InlineData("[ 1234.5600] postgres invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0", true)]
    [InlineData("[ 1234.5700] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=java,pid=4242,uid=1000", true)]
    [InlineData("[ 1234.5800] oom_reaper: reaped process 4242 (java), now anon-rss:0kB", true)]
    [InlineData("[    0.000000] Memory: 2010000K/2097152K available", false)]
    public void Oom_lines_are_recognized_by_the_kernels_own_wording(string line, bool expected) =>
        ServiceVerbs.IsOomLine(line).ShouldBe(expected);
}
