using Medic.Agent.Execution;
using Medic.Agent.Monitors;
using Medic.Contracts.Agent;
using Xunit.Abstractions;

namespace Medic.Agent.Tests.Monitors;

/// <summary>The self-healing ladder against a real supervised HTTP service: killed, frozen, and one that always dies.</summary>
public sealed class HealingLadderTests(ITestOutputHelper output)
{
    private static MonitorDefinition Service(int port, HealDefinition? heal = null) => new()
    {
        Name = "web",
        Kind = MonitorKind.Process,
        Start = TestService.Argv(port),
        IntervalSeconds = 0.5,
        Health = new HealthCheckDefinition { Http = $"http://127.0.0.1:{port}/", TimeoutSeconds = 0.5, Failures = 2 },
        Heal = heal ?? new HealDefinition { MaxRestarts = 3, WindowSeconds = 60, Retries = 60, DelaySeconds = 0.1 },
        Labels = new Dictionary<string, string> { ["team"] = "web" },
    };

    private MonitorRunner Runner(MonitorDefinition definition, RecordingEvents events) =>
        new([definition], events, TimeProvider.System, line => output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}"), new MonitorRunnerOptions { SystemdRunning = false });

    private static bool Exists(int pid) => Libc.Kill(pid, 0) == 0 && ProcessTree.Read(pid) is { State: not 'Z' };

    private static async Task<int> ServingPidAsync(MonitorRunner runner, int port)
    {
        await TestService.WaitUntilAsync(() => TestService.AnswersAsync(port), TimeSpan.FromSeconds(20), "the service did not answer");
        return runner.Status()[0].ChildPid ?? throw new InvalidOperationException("no supervised pid");
    }

    [Fact]
    public async Task A_killed_service_is_restarted_and_healthy_and_the_incident_opens_and_resolves_healed_locally()
    {
        var port = TestService.FreePort();
        var events = new RecordingEvents();
        var runner = Runner(Service(port), events);
        using var stop = new CancellationTokenSource();
        var run = runner.RunAsync(stop.Token);
        try
        {
            var pid = await ServingPidAsync(runner, port);
            events.Events.ShouldBeEmpty("starting a supervised service is not an incident");

            Libc.Kill(pid, Libc.SIGKILL).ShouldBe(0);
            var resolved = await events.WaitForAsync(e => e.Kind == "resolved", TimeSpan.FromSeconds(20));

            (await TestService.AnswersAsync(port)).ShouldBeTrue();
            runner.Status()[0].ChildPid.ShouldNotBe(pid);
            events.Events.Select(e => e.Kind).ShouldBe(["opened", "resolved"]);
            var opened = events.Events[0].Event;
            opened.Title.ShouldBe($"web: not running: pid {pid} killed by signal 9 (SIGKILL)");
            opened.Evidence[EvidenceKeys.ExitStatus].ShouldBe("killed by signal 9 (SIGKILL)");
            opened.Evidence[EvidenceKeys.Ladder].ShouldBe(EvidenceKeys.Healing, "the control plane's pipeline waits while the agent restarts it");
            opened.Fingerprint.ShouldBe("monitor/web");
            opened.Type.ShouldBe("service_down");
            opened.Labels["team"].ShouldBe("web");
            resolved.Event.Title.ShouldBe("web healed locally after 1 restart");
            resolved.Event.Fingerprint.ShouldBe(opened.Fingerprint);
            resolved.Event.Evidence[EvidenceKeys.Resolution].ShouldBe(EvidenceKeys.HealedLocally);
            resolved.Event.Evidence[EvidenceKeys.Restarts].ShouldBe("1");
            resolved.Event.Evidence[EvidenceKeys.RestartHistory].ShouldContain($"restarted (not running: pid {pid} killed by signal 9 (SIGKILL)) -> healthy after");
            resolved.Event.Evidence[EvidenceKeys.LastLines].ShouldContain("listening on 127.0.0.1:" + port);
        }
        finally
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(20));
        }

        (await TestService.AnswersAsync(port)).ShouldBeFalse("stopping the runner stops the supervised service");
    }

    [Fact]
    public async Task A_frozen_service_is_found_hung_by_its_health_check_killed_and_restarted()
    {
        var port = TestService.FreePort();
        var events = new RecordingEvents();
        var runner = Runner(Service(port), events);
        using var stop = new CancellationTokenSource();
        var run = runner.RunAsync(stop.Token);
        try
        {
            var pid = await ServingPidAsync(runner, port);

            Libc.Kill(pid, Libc.SIGSTOP).ShouldBe(0);
            var resolved = await events.WaitForAsync(e => e.Kind == "resolved", TimeSpan.FromSeconds(30));

            var opened = events.Events[0];
            opened.Kind.ShouldBe("opened");
            opened.Event.Title.ShouldStartWith($"web: hung: running as pid {pid} (T stopped) but its health check failed 2 times in a row: GET http://127.0.0.1:{port}/: no answer within 0.5 s");
            opened.Event.Evidence[ProcessCheck.HungKey].ShouldBe("true");
            resolved.Event.Evidence[EvidenceKeys.Resolution].ShouldBe(EvidenceKeys.HealedLocally);
            (await TestService.AnswersAsync(port)).ShouldBeTrue();
            runner.Status()[0].ChildPid.ShouldNotBe(pid);
            Exists(pid).ShouldBeFalse("the frozen process was killed, not left behind");
        }
        finally
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(20));
        }
    }

    [Fact]
    public async Task A_command_that_always_dies_is_given_up_after_max_restarts_with_the_evidence()
    {
        var events = new RecordingEvents();
        var definition = new MonitorDefinition
        {
            Name = "worker",
            Kind = MonitorKind.Process,
            Start = ["sh", "-c", "echo starting; echo 'fatal: no config' >&2; exit 3"],
            IntervalSeconds = 0.2,
            Heal = new HealDefinition { MaxRestarts = 3, WindowSeconds = 60, Retries = 5, DelaySeconds = 0.1 },
        };
        var runner = Runner(definition, events);
        using var stop = new CancellationTokenSource();
        var run = runner.RunAsync(stop.Token);
        try
        {
            var gaveUp = await events.WaitForAsync(e => e.Kind == "updated", TimeSpan.FromSeconds(20));

            events.Events[0].Kind.ShouldBe("opened");
            events.Events[0].Event.Title.ShouldEndWith("exited with code 3");
            events.Events[0].Event.Evidence[EvidenceKeys.Ladder].ShouldBe(EvidenceKeys.Healing);
            gaveUp.Event.Title.ShouldStartWith("worker: gave up restarting it (3 restarts within 1m (max_restarts 3))");
            gaveUp.Event.Evidence[EvidenceKeys.Ladder].ShouldBe(EvidenceKeys.GaveUp);
            gaveUp.Event.Evidence[EvidenceKeys.Restarts].ShouldBe("3");
            gaveUp.Event.Evidence[EvidenceKeys.ExitStatus].ShouldBe("exited with code 3");
            gaveUp.Event.Evidence[EvidenceKeys.LastLines].ShouldContain("[stderr] fatal: no config");
            gaveUp.Event.Evidence[EvidenceKeys.RestartHistory].Split('\n').Length.ShouldBe(3);
            runner.Status()[0].GaveUp.ShouldBeTrue();

            // Three more checks of the dead service, then nothing new: a signal, not a sleep.
            var looked = runner.Status()[0].Observations;
            await TestService.WaitUntilAsync(() => Task.FromResult(runner.Status()[0].Observations >= looked + 3), TimeSpan.FromSeconds(20), "the monitor stopped checking after giving up");
            events.Events.Count.ShouldBe(2, "after giving up it neither restarts nor reports again");
            runner.Status()[0].Restarts.ShouldBe(3);
        }
        finally
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(20));
        }
    }
}
