using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Medic.Agent.Monitors;
using Medic.Contracts.Agent;
using Xunit.Abstractions;

namespace Medic.Agent.Tests.Monitors;

/// <summary>The ladder after its first rung: backoff between restarts, retries after giving up, and a give-up people can act on.</summary>
public sealed class LadderRetryTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("medic-ladder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private MonitorRunner Runner(MonitorDefinition definition, RecordingEvents events) =>
        new([definition], events, TimeProvider.System, line => output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}"), new MonitorRunnerOptions { SystemdRunning = false });

    /// <summary>A service that serves on <paramref name="port"/> only while its config file says "good"; otherwise it fails at start as a real one would.</summary>
    private (string Script, string Config) ConfiguredService(int port)
    {
        var config = Path.Combine(_dir, "app.conf");
        File.WriteAllText(config, "listen = 80 80\n");
        var script = Path.Combine(_dir, "run.sh");
        File.WriteAllText(script, $"""
            echo "reading $1"
            if ! grep -q good "$1"; then echo "app: fatal: invalid value for 'listen' in $1 (line 1)" >&2; exit 78; fi
            exec '{TestService.Dotnet}' '{TestService.Dll}' --port {port}
            """);
        return (script, config);
    }

    private static async Task RunAsync(MonitorRunner runner, Func<Task> body)
    {
        using var stop = new CancellationTokenSource();
        var run = runner.RunAsync(stop.Token);
        try
        {
            await body();
        }
        finally
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(20));
        }
    }

    [Fact]
    public void The_backoff_is_none_before_the_first_restart_then_doubles_to_its_cap()
    {
        var heal = new HealDefinition { BackoffSeconds = 1, BackoffMaxSeconds = 5 };

        Enumerable.Range(1, 6).Select(n => HealLadder.Backoff(heal, n).TotalSeconds).ShouldBe([0, 1, 2, 4, 5, 5]);
        HealLadder.Backoff(heal with { BackoffSeconds = 0 }, 3).ShouldBe(TimeSpan.Zero, "backoff: off");
    }

    [Fact]
    public void The_heal_block_reads_backoff_retry_after_and_watch_with_their_defaults_and_refuses_nonsense()
    {
        const string Head = "monitors:\n  - name: a\n    kind: process\n    start: [/usr/bin/app]\n    heal:\n";
        var set = MonitorFile.Parse(Head + "      backoff: 2s\n      backoff_max: 30s\n      retry_after: off\n      watch: [/etc/app.conf, /etc/app.d]\n", "m.yaml").Single().Heal!;
        (set.BackoffSeconds, set.BackoffMaxSeconds, set.RetryAfterSeconds).ShouldBe((2, 30, 0));
        set.Watch.ShouldBe(["/etc/app.conf", "/etc/app.d"]);

        var defaults = MonitorFile.Parse(Head + "      max_restarts: 3\n", "m.yaml").Single().Heal!;
        (defaults.BackoffSeconds, defaults.BackoffMaxSeconds, defaults.RetryAfterSeconds, defaults.Watch).ShouldBe((1, 60, 300, null));

        Should.Throw<AgentException>(() => MonitorFile.Parse(Head + "      watch: [app.conf]\n", "m.yaml")).Message.ShouldContain("'heal.watch: app.conf' must be an absolute path");
        Should.Throw<AgentException>(() => MonitorFile.Parse(Head + "      backoff: 1m\n      backoff_max: 10s\n", "m.yaml")).Message.ShouldContain("'heal.backoff_max' (10s) must not be below 'heal.backoff' (1m)");
        Should.Throw<AgentException>(() => MonitorFile.Parse(Head + "      retry_after: sometimes\n", "m.yaml")).Message.ShouldContain("'retry_after: sometimes' is not a duration");
    }

    [Fact]
    public async Task Restarts_of_a_crash_looping_service_are_spaced_by_the_backoff_and_the_first_is_immediate()
    {
        var events = new RecordingEvents();
        var definition = new MonitorDefinition
        {
            Name = "looper",
            Kind = MonitorKind.Process,
            Start = ["sh", "-c", "echo 'error: cannot open /var/lib/looper/db: Permission denied' >&2; exit 1"],
            IntervalSeconds = 0.2,
            Heal = new HealDefinition { MaxRestarts = 5, WindowSeconds = 600, Retries = 5, DelaySeconds = 0.05, BackoffSeconds = 0.4, BackoffMaxSeconds = 0.8 },
        };
        var runner = Runner(definition, events);
        await RunAsync(runner, async () =>
        {
            var gaveUp = await events.WaitForAsync(e => e.Kind == "updated", TimeSpan.FromSeconds(30));

            var opened = events.Events[0].Event.At;
            var restarts = gaveUp.Event.Evidence[EvidenceKeys.RestartHistory].Split('\n')
                .Select(l => DateTimeOffset.Parse(l[..l.IndexOf(": restarted", StringComparison.Ordinal)], CultureInfo.InvariantCulture)).ToList();
            restarts.Count.ShouldBe(5);
            (restarts[0] - opened).TotalSeconds.ShouldBeLessThan(0.4, "the first restart is immediate");
            var gaps = restarts.Zip(restarts.Skip(1), (a, b) => (b - a).TotalSeconds).ToList();
            output.WriteLine("gaps: " + string.Join(", ", gaps));
            gaps[0].ShouldBeGreaterThanOrEqualTo(0.4);
            gaps[1].ShouldBeGreaterThanOrEqualTo(0.8);
            gaps[2].ShouldBeGreaterThanOrEqualTo(0.8);
            gaps[3].ShouldBeLessThan(2.5, "capped at backoff_max 0.8 s, not 3.2 s");
            gaveUp.Event.Evidence[LikelyCause.Key].ShouldBe("error: cannot open /var/lib/looper/db: Permission denied");
            gaveUp.Event.Evidence[EvidenceKeys.NextRetry].ShouldStartWith("retrying every 5m, and at once when ");
        });
    }

    [Fact]
    public async Task After_giving_up_a_fix_to_the_config_named_in_its_start_command_restarts_it_at_once_and_resolves_the_incident()
    {
        var port = TestService.FreePort();
        var (script, config) = ConfiguredService(port);
        var events = new RecordingEvents();
        var definition = new MonitorDefinition
        {
            Name = "app",
            Kind = MonitorKind.Process,
            Start = ["sh", script, config],
            IntervalSeconds = 0.2,
            Health = new HealthCheckDefinition { Http = $"http://127.0.0.1:{port}/", TimeoutSeconds = 0.5, Failures = 2 },
            Heal = new HealDefinition { MaxRestarts = 2, WindowSeconds = 600, Retries = 60, DelaySeconds = 0.1, BackoffSeconds = 0.1, RetryAfterSeconds = 3600 },
        };
        var runner = Runner(definition, events);
        await RunAsync(runner, async () =>
        {
            var gaveUp = await events.WaitForAsync(e => e.Kind == "updated", TimeSpan.FromSeconds(30));
            gaveUp.Event.Evidence[EvidenceKeys.Ladder].ShouldBe(EvidenceKeys.GaveUp);
            gaveUp.Event.Evidence[LikelyCause.Key].ShouldBe($"app: fatal: invalid value for 'listen' in {config} (line 1)");
            gaveUp.Event.Evidence[EvidenceKeys.NextRetry].ShouldContain(config);

            // Nothing changes: it stays given up (retry_after is an hour).
            var looked = runner.Status()[0].Observations;
            await TestService.WaitUntilAsync(() => Task.FromResult(runner.Status()[0].Observations >= looked + 3), TimeSpan.FromSeconds(20), "the monitor stopped checking");
            runner.Status()[0].Restarts.ShouldBe(2);
            (await TestService.AnswersAsync(port)).ShouldBeFalse();

            File.WriteAllText(config, "listen = good\n");
            var resolved = await events.WaitForAsync(e => e.Kind == "resolved", TimeSpan.FromSeconds(30));

            (await TestService.AnswersAsync(port)).ShouldBeTrue();
            resolved.Event.Title.ShouldBe($"app healed locally on a retry after giving up ({config} changed)");
            resolved.Event.Evidence[EvidenceKeys.Resolution].ShouldBe(EvidenceKeys.HealedLocally);
            resolved.Event.Evidence[HealLadder.ChangedKey].ShouldBe(config);
            resolved.Event.Fingerprint.ShouldBe(gaveUp.Event.Fingerprint);
            runner.Status()[0].GaveUp.ShouldBeFalse();
            runner.Status()[0].Restarts.ShouldBe(3);
        });
    }

    [Fact]
    public async Task A_retry_after_a_change_that_does_not_fix_it_is_reported_and_the_next_periodic_retry_heals_it()
    {
        var port = TestService.FreePort();
        var (script, config) = ConfiguredService(port);
        var watched = Path.Combine(_dir, "app.env");
        File.WriteAllText(watched, "MODE=1\n");
        var events = new RecordingEvents();
        var definition = new MonitorDefinition
        {
            Name = "app",
            Kind = MonitorKind.Process,
            Start = ["sh", "-c", $"exec sh {script} {config}"], // no file of its own in argv: only heal.watch is watched
            IntervalSeconds = 0.2,
            Health = new HealthCheckDefinition { Http = $"http://127.0.0.1:{port}/", TimeoutSeconds = 0.5, Failures = 2 },
            Heal = new HealDefinition { MaxRestarts = 1, WindowSeconds = 600, Retries = 60, DelaySeconds = 0.1, RetryAfterSeconds = 4, Watch = [watched] },
        };
        var runner = Runner(definition, events);
        await RunAsync(runner, async () =>
        {
            await events.WaitForAsync(e => e.Kind == "updated", TimeSpan.FromSeconds(30));

            File.AppendAllText(watched, "MODE=2\n");
            var failedRetry = await events.WaitForAsync(e => e.Kind == "updated", TimeSpan.FromSeconds(30), skip: 1);
            failedRetry.Event.Evidence[EvidenceKeys.Ladder].ShouldBe(EvidenceKeys.RetryFailed);
            failedRetry.Event.Evidence[HealLadder.ChangedKey].ShouldBe(watched);
            failedRetry.Event.Title.ShouldBe($"app: still down after a retry ({watched} changed): app: fatal: invalid value for 'listen' in {config} (line 1)");

            File.WriteAllText(config, "listen = good\n"); // not watched: only the periodic retry finds the fix
            var resolved = await events.WaitForAsync(e => e.Kind == "resolved", TimeSpan.FromSeconds(30));
            resolved.Event.Title.ShouldBe("app healed locally on a retry after giving up (the periodic retry (retry_after 4s))");
            resolved.Event.Evidence.ContainsKey(HealLadder.ChangedKey).ShouldBeFalse();
            (await TestService.AnswersAsync(port)).ShouldBeTrue();
            events.Events.Select(e => e.Kind).ShouldBe(["opened", "updated", "updated", "resolved"]);
        });
    }

    [Fact]
    public async Task When_its_port_is_taken_the_give_up_names_the_process_holding_it()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var events = new RecordingEvents();
        var definition = new MonitorDefinition
        {
            Name = "web",
            Kind = MonitorKind.Process,
            Start = TestService.Argv(port),
            IntervalSeconds = 0.2,
            Health = new HealthCheckDefinition { Http = $"http://127.0.0.1:{port}/healthz", TimeoutSeconds = 0.5, Failures = 2 },
            Heal = new HealDefinition { MaxRestarts = 1, WindowSeconds = 600, Retries = 100, DelaySeconds = 0.1, RetryAfterSeconds = 0 },
        };
        var runner = Runner(definition, events);
        await RunAsync(runner, async () =>
        {
            var gaveUp = await events.WaitForAsync(e => e.Kind == "updated", TimeSpan.FromSeconds(60));

            var evidence = gaveUp.Event.Evidence;
            evidence[LikelyCause.PortInUse].ShouldBe(port.ToString(CultureInfo.InvariantCulture));
            evidence[LikelyCause.PortHolderPid].ShouldBe(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "the test process holds the port");
            evidence[LikelyCause.Key].ShouldStartWith($"port {port} is already held by ");
            evidence[LikelyCause.Key].ShouldContain("Address already in use");
            evidence[EvidenceKeys.NextRetry].ShouldContain("at once when");
            evidence[EvidenceKeys.NextRetry].ShouldNotContain("every");
        });
    }

    [Fact]
    public void The_lock_or_pid_file_a_service_complains_about_is_named_when_it_exists()
    {
        var dir = Directory.CreateTempSubdirectory("medic-lock-");
        try
        {
            var pidFile = Path.Combine(dir.FullName, "queue.pid");
            File.WriteAllText(pidFile, "4242\n");
            var dbLock = Path.Combine(dir.FullName, "LOCK");
            File.WriteAllText(dbLock, "");

            LikelyCause.LockFileIn($"[stderr] error: lock file {pidFile} exists (pid 4242): another instance is running, or remove the stale lock file")
                .ShouldBe(pidFile);
            LikelyCause.LockFileIn($"2026-12-07T15:00:00+0000 db-1 leveldb[12]: IO error: lock {dbLock}: already held by process")
                .ShouldBe(dbLock);
            LikelyCause.LockFileIn($"error: lock file {Path.Combine(dir.FullName, "gone.pid")} exists").ShouldBeNull("a file that is not there is nothing to look at");
            LikelyCause.LockFileIn($"error: cannot open {Path.Combine(dir.FullName, "app.conf")}: permission denied").ShouldBeNull("the line is not about a lock");
            LikelyCause.LockFileIn($"error: lock held on {Path.Combine(dir.FullName, "data.db")}").ShouldBeNull("not a lock or pid file by its name");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
