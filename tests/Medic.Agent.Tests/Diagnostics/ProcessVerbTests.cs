using System.Diagnostics;
using System.Globalization;
using Medic.Agent.Diagnostics;
using Medic.Agent.Tests.Monitors;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Diagnostics;

/// <summary>The <c>processes</c> verb on two real instances of one program, one per port and working directory.</summary>
public sealed class ProcessVerbTests : IDisposable
{
    private readonly List<Process> _children = [];
    private readonly DirectoryInfo _blueDir = Directory.CreateTempSubdirectory("medic-blue-");
    private readonly DirectoryInfo _greenDir = Directory.CreateTempSubdirectory("medic-green-");

    private Process Start(int port, string cwd)
    {
        var info = new ProcessStartInfo(TestService.Dotnet) { WorkingDirectory = cwd, UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in TestService.Argv(port).Skip(1)) info.ArgumentList.Add(arg);
        var child = Process.Start(info)!;
        _children.Add(child);
        return child;
    }

    [Fact]
    public async Task Two_instances_of_one_program_are_told_apart_by_port_and_working_directory_and_a_name_alone_finds_both()
    {
        var bluePort = TestService.FreePort();
        var greenPort = TestService.FreePort();
        var blue = Start(bluePort, _blueDir.FullName);
        var green = Start(greenPort, _greenDir.FullName);
        await TestService.WaitUntilAsync(() => TestService.AnswersAsync(bluePort), TimeSpan.FromSeconds(30), "blue answers");
        await TestService.WaitUntilAsync(() => TestService.AnswersAsync(greenPort), TimeSpan.FromSeconds(30), "green answers");

        var byName = ProcessVerbs.Find(new ProcessVerbs.Selector("medic-test-http", null, null, null, null, null));
        // Other tests may run their own instances at the same time: these two must be among them.
        byName.Select(p => p.Pid).ShouldContain(blue.Id, "the dll's file name names the program");
        byName.Select(p => p.Pid).ShouldContain(green.Id);

        var byPort = ProcessVerbs.Find(new ProcessVerbs.Selector("medic-test-http", null, greenPort, null, null, null)).ShouldHaveSingleItem();
        byPort.Pid.ShouldBe(green.Id);
        byPort.Ports.ShouldContain(greenPort);
        byPort.Command.ShouldBe("dotnet");
        byPort.CommandLine.ShouldContain("--port " + greenPort.ToString(CultureInfo.InvariantCulture));

        ProcessVerbs.Find(new ProcessVerbs.Selector(null, null, null, null, null, _blueDir.FullName)).ShouldHaveSingleItem().Pid.ShouldBe(blue.Id);
        ProcessVerbs.Find(new ProcessVerbs.Selector(null, null, null, null, "--port " + bluePort.ToString(CultureInfo.InvariantCulture), null)).ShouldHaveSingleItem().Pid.ShouldBe(blue.Id);
        ProcessVerbs.Find(new ProcessVerbs.Selector("nginx", green.Id, null, null, null, null)).ShouldBeEmpty("the pid is not that program");

        // Through the verb, as the control plane asks: the candidate lines and the findings.
        var both = await VerbHarness.Run("processes", ("name", "medic-test-http"));
        both.Outcome.Status.ShouldBe(TaskStatus.Completed);
        both.Output.ShouldContain($"candidate\t{blue.Id}\tdotnet\t");
        both.Output.ShouldContain($"candidate\t{green.Id}\tdotnet\t");
        both.Output.ShouldNotContain("finding pid=");
        both.Output.ShouldNotContain("finding matches=1");
        var one = await VerbHarness.Run("processes", ("name", "medic-test-http"), ("port", greenPort.ToString(CultureInfo.InvariantCulture)));
        one.Output.ShouldContain($"candidate\t{green.Id}\tdotnet\t");
        one.Output.ShouldContain($"finding pid={green.Id}");

        var none = await VerbHarness.Run("processes");
        none.Outcome.ExitCode.ShouldBe(2, "no selector is not 'every process'");
        VerbHarness.Validate("processes", ("port", "0")).ShouldNotBeNull();
        VerbHarness.Validate("processes", ("cmdline", "a\nb")).ShouldNotBeNull();
    }

    [Theory]
    [InlineData("0::/system.slice/shop@8081.service", "shop@8081.service")]
    [InlineData("0::/system.slice/docker-0123abcd.scope", "docker-0123abcd.scope")]
    [InlineData("0::/user.slice/user-0.slice/session-3.scope", "session-3.scope")]
    [InlineData("12:pids:/system.slice/nginx.service\n1:name=systemd:/system.slice/nginx.service", "nginx.service")]
    [InlineData("0::/", null)]
    public void The_unit_comes_from_the_cgroup(string cgroup, string? unit) =>
        ProcessVerbs.UnitFromCgroup(cgroup.Split('\n')).ShouldBe(unit);

    public void Dispose()
    {
        foreach (var child in _children)
        {
            if (!child.HasExited) child.Kill();
            child.WaitForExit(5000);
            child.Dispose();
        }

        _blueDir.Delete(recursive: true);
        _greenDir.Delete(recursive: true);
    }
}
