using Medic.Agent.Execution;
using Medic.Agent.Monitors;
using Medic.Agent.Policy;
using Medic.Contracts.Agent;
using Xunit.Abstractions;

namespace Medic.Agent.Tests.Monitors;

/// <summary>A new monitor set replaces only what changed: supervised children of unchanged monitors keep running, with the same pid.</summary>
public sealed class MonitorReloadTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("medic-reload-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static MonitorDefinition Service(string name, int port, double interval = 0.5) => new()
    {
        Name = name,
        Kind = MonitorKind.Process,
        Start = TestService.Argv(port),
        IntervalSeconds = interval,
        // 5 failures 0.5 s apart: time enough for a fresh dotnet child to listen (a new monitor has no start-up grace of its own).
        Health = new HealthCheckDefinition { Http = $"http://127.0.0.1:{port}/", TimeoutSeconds = 0.5, Failures = 5 },
        Heal = new HealDefinition { MaxRestarts = 3, WindowSeconds = 60, Retries = 60, DelaySeconds = 0.1 },
    };

    private static async Task<int> PidAsync(int port)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var pid = 0;
        await TestService.WaitUntilAsync(async () =>
        {
            try
            {
                pid = int.Parse(await client.GetStringAsync($"http://127.0.0.1:{port}/pid"), System.Globalization.CultureInfo.InvariantCulture);
                return true;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20), $"nothing answered on port {port}");
        return pid;
    }

    private static bool Exists(int pid) => Libc.Kill(pid, 0) == 0 && ProcessTree.Read(pid) is { State: not 'Z' };

    [Fact]
    public async Task Updating_the_runner_keeps_unchanged_children_restarts_the_changed_one_stops_the_removed_one_and_opens_no_incident()
    {
        int a = TestService.FreePort(), b = TestService.FreePort(), c = TestService.FreePort();
        var events = new RecordingEvents();
        var runner = new MonitorRunner([Service("a", a), Service("b", b), Service("c", c)], events, TimeProvider.System,
            line => output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}"), new MonitorRunnerOptions { SystemdRunning = false });
        using var stop = new CancellationTokenSource();
        var run = runner.RunAsync(stop.Token);
        try
        {
            var (pidA, pidB, pidC) = (await PidAsync(a), await PidAsync(b), await PidAsync(c));

            // b changes (a longer interval), c goes, d comes.
            var d = TestService.FreePort();
            var changes = runner.Update([Service("a", a), Service("b", b, interval: 0.6), Service("d", d)], null, readPathsChanged: false);

            changes.Added.ShouldBe(["d"]);
            changes.Replaced.ShouldBe(["b"]);
            changes.Removed.ShouldBe(["c"]);
            changes.Unchanged.ShouldBe(1);
            var pidD = await PidAsync(d);
            await TestService.WaitUntilAsync(() => Task.FromResult(!Exists(pidC)), TimeSpan.FromSeconds(20), "the removed monitor's child was not stopped");
            await TestService.WaitUntilAsync(async () => await PidAsync(b) != pidB, TimeSpan.FromSeconds(20), "the changed monitor's child was not replaced");
            Exists(pidB).ShouldBeFalse("the old child of the changed monitor is gone");
            (await PidAsync(a)).ShouldBe(pidA, "the unchanged monitor's child kept running");
            pidD.ShouldNotBe(pidA);

            // Let every monitor look a few more times: none of this was an incident.
            var looked = runner.Status().Min(s => s.Observations);
            await TestService.WaitUntilAsync(() => Task.FromResult(runner.Status().Min(s => s.Observations) >= looked + 3), TimeSpan.FromSeconds(20), "the monitors stopped checking");
            events.Events.ShouldBeEmpty();
            runner.Status().Select(s => s.Name).ShouldBe(["a", "b", "d"]);
        }
        finally
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(20));
        }

        (await TestService.AnswersAsync(a)).ShouldBeFalse();
    }

    [Fact]
    public async Task A_push_that_adds_a_monitor_leaves_the_running_supervised_service_alone()
    {
        int a = TestService.FreePort(), b = TestService.FreePort();
        var events = new RecordingEvents();
        var log = new List<string>();
        var host = new MonitorHost([], _dir, AgentPolicy.Parse("exec: true\n", "test-policy.yaml"), events, TimeProvider.System, line =>
        {
            lock (log) log.Add(line);
            output.WriteLine(line);
        });
        host.Apply(new MonitorSet([Service("a", a)])).Changed.ShouldBeTrue();
        using var stop = new CancellationTokenSource();
        var run = host.RunAsync(stop.Token);
        try
        {
            var pidA = await PidAsync(a);

            host.Apply(new MonitorSet([Service("a", a), Service("b", b)])).Changed.ShouldBeTrue();
            await PidAsync(b);

            (await PidAsync(a)).ShouldBe(pidA);
            lock (log) log.ShouldContain(l => l.Contains("started b; 1 unchanged kept running", StringComparison.Ordinal));
            events.Events.ShouldBeEmpty();
        }
        finally
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(20));
        }
    }
}
