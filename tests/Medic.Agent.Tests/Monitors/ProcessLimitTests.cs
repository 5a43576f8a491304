using System.Diagnostics;
using Medic.Agent.Monitors;
using Medic.Contracts.Agent;
using Xunit.Abstractions;

namespace Medic.Agent.Tests.Monitors;

/// <summary>
/// Process limits and the machine-wide monitors' top processes, against real processes: a busy
/// loop, a process that grows its memory, one that sleeps.
/// </summary>
public sealed class ProcessLimitTests(ITestOutputHelper output) : IDisposable
{
    private const string BusyLoop = "while :; do :; done";
    private readonly string _dir = Directory.CreateTempSubdirectory("medic-limits-").FullName;
    private readonly List<Process> _started = [];

    public void Dispose()
    {
        foreach (var process in _started)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
            process.Dispose();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private MonitorDefinition Supervised(IReadOnlyList<string> start, ProcessLimitsDefinition limits) => new()
    {
        Name = "burner",
        Kind = MonitorKind.Process,
        Start = start,
        WorkingDirectory = _dir,
        IntervalSeconds = 0.3,
        Limits = limits,
    };

    private MonitorRunner Runner(MonitorDefinition definition, RecordingEvents events) =>
        new([definition], events, TimeProvider.System, line => output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}"), new MonitorRunnerOptions { SystemdRunning = false });

    private Process Start(string file, params string[] args)
    {
        var process = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false }) ?? throw new InvalidOperationException($"{file} did not start");
        _started.Add(process);
        return process;
    }

    [Fact]
    public async Task A_process_over_its_cpu_limit_for_the_duration_opens_process_runaway_naming_it()
    {
        var events = new RecordingEvents();
        var runner = Runner(Supervised(["sh", "-c", BusyLoop], new ProcessLimitsDefinition { CpuPercent = 30, ForSeconds = 1 }), events);
        using var stop = new CancellationTokenSource();
        var run = runner.RunAsync(stop.Token);
        try
        {
            var opened = await events.WaitForAsync(e => e.Kind == "opened", TimeSpan.FromSeconds(30));

            var pid = runner.Status()[0].ChildPid!.Value;
            var e = opened.Event;
            (e.Monitor, e.Type, e.Fingerprint).ShouldBe(("burner", "process_runaway", "monitor/burner/cpu"));
            e.Evidence["pid"].ShouldBe(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            e.Evidence["process"].ShouldBe("sh");
            e.Evidence["cmdline"].ShouldBe($"sh -c {BusyLoop}");
            e.Evidence["user"].ShouldBe(Environment.UserName);
            e.Evidence["cwd"].ShouldBe(_dir);
            double.Parse(e.Evidence["cpu_percent"], System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThanOrEqualTo(30);
            e.Evidence["limit"].ShouldBe("30%");
            e.Evidence["trend"].ShouldStartWith("CPU % of one core, oldest first: ");
            e.Title.ShouldContain($"burner (pid {pid}, sh): CPU ");
            runner.Status().Select(s => s.Name).ShouldBe(["burner", "burner/cpu"]);
            events.Events.ShouldAllBe(x => x.Event.Type == "process_runaway", "a live process over its limit is not service_down");
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task A_process_under_its_limits_opens_nothing()
    {
        var events = new RecordingEvents();
        var runner = Runner(Supervised(["sleep", "300"], new ProcessLimitsDefinition { CpuPercent = 30, MemoryBytes = 100 << 20 }), events);
        using var stop = new CancellationTokenSource();
        var run = runner.RunAsync(stop.Token);
        try
        {
            await TestService.WaitUntilAsync(() => Task.FromResult(runner.Status().All(s => s.Observations >= 8)), TimeSpan.FromSeconds(30), "the limits were not checked");

            runner.Status().Select(s => (s.Name, s.Phase)).ShouldBe([("burner", MonitorPhase.Ok), ("burner/cpu", MonitorPhase.Ok), ("burner/memory", MonitorPhase.Ok)]);
            runner.Status()[1].LastSummary!.ShouldContain("(pid ");
            events.Events.ShouldBeEmpty();
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task A_process_growing_past_its_memory_limit_opens_process_leaking_with_the_growth()
    {
        // Grows by 16 MiB every 100 ms (bytes filled with 'x', so resident), up to 320 MiB, then holds it.
        const string grower = "import time\na = []\nfor _ in range(20):\n    a.append(b'x' * (16 << 20))\n    time.sleep(0.1)\ntime.sleep(300)";
        var events = new RecordingEvents();
        var runner = Runner(Supervised(["python3", "-c", grower], new ProcessLimitsDefinition { MemoryBytes = 200 << 20 }), events);
        using var stop = new CancellationTokenSource();
        var run = runner.RunAsync(stop.Token);
        try
        {
            var opened = await events.WaitForAsync(e => e.Kind == "opened", TimeSpan.FromSeconds(30));

            var e = opened.Event;
            (e.Type, e.Fingerprint).ShouldBe(("process_leaking", "monitor/burner/memory"));
            e.Evidence["pid"].ShouldBe(runner.Status()[0].ChildPid!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            e.Evidence["process"].ShouldStartWith("python3");
            e.Evidence["cmdline"].ShouldContain("python3");
            e.Evidence["cmdline"].ShouldContain(" -c import time");
            long.Parse(e.Evidence["rss_bytes"], System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThanOrEqualTo(200L << 20);
            e.Evidence["trend"].ShouldStartWith("resident memory grew from ");
            runner.Status().Select(s => s.Name).ShouldBe(["burner", "burner/memory"]);
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task The_cpu_monitor_names_the_busiest_processes_over_the_last_interval()
    {
        var busy = Start("sh", "-c", BusyLoop);
        var check = new CpuCheck(new MonitorDefinition { Name = "cpu", Kind = MonitorKind.Cpu, MaxPercent = 0 });
        await check.CheckAsync(default);
        await Task.Delay(1500);

        var observation = await check.CheckAsync(default);

        observation.Verdict.ShouldBe(Verdict.Fail);
        var top = observation.Evidence!["top_processes"].Split('\n');
        output.WriteLine(observation.Evidence["top_processes"]);
        top[0].ShouldBe("    PID USER               CPU  COMMAND");
        top.Length.ShouldBe(6);
        top.ShouldContain(l => l.TrimStart().StartsWith($"{busy.Id} ", StringComparison.Ordinal) && l.EndsWith($"sh -c {BusyLoop}", StringComparison.Ordinal));
        top[1].TrimStart().ShouldStartWith(observation.Evidence["pid"] + " ", customMessage: "the top one is named as pid, process, user, cmdline");
        observation.Evidence.Keys.ShouldContain("cmdline");
        observation.Evidence.Keys.ShouldContain("user");
        if (observation.Evidence["pid"] == busy.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            double.Parse(observation.Evidence["cpu_percent"], System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(40, "a busy loop over 1.5 s, not since boot");
        }
    }

    [Fact]
    public async Task The_memory_monitor_names_the_process_that_holds_the_most_and_types_the_incident_by_its_share()
    {
        // 600 MiB, resident (filled with 'x'): more than any other process on a test machine.
        var hog = Start("python3", "-c", "import time\na = b'x' * (600 << 20)\ntime.sleep(300)");
        await TestService.WaitUntilAsync(
            () => Task.FromResult(Medic.Agent.Host.ProcessSampler.ResidentBytes(hog.Id) >= 600L << 20), TimeSpan.FromSeconds(60), "the process did not grow");
        var check = new MemoryCheck(new MonitorDefinition { Name = "memory", Kind = MonitorKind.Memory, MaxPercent = 0 });

        var observation = await check.CheckAsync(default);

        var evidence = observation.Evidence!;
        output.WriteLine(observation.Summary + "\n" + evidence["top_processes"]);
        evidence["pid"].ShouldBe(hog.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        evidence["process"].ShouldStartWith("python3");
        evidence["user"].ShouldBe(Environment.UserName);
        evidence["top_processes"].Split('\n')[1].ShouldContain(" MiB  ");
        var used = long.Parse(evidence["used_bytes"], System.Globalization.CultureInfo.InvariantCulture);
        var held = Medic.Agent.Host.ProcessSampler.ResidentBytes(hog.Id)!.Value;
        observation.Type.ShouldBe(held * 2 >= used ? "process_leaking" : null, $"it holds {held} of {used} bytes used");
        if (observation.Type is not null) observation.Summary.ShouldContain($"pid {hog.Id} (python3");

        hog.Kill();
        await hog.WaitForExitAsync();
        var after = await check.CheckAsync(default);
        after.Evidence!["pid"].ShouldNotBe(hog.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
