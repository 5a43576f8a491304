using Medic.Contracts.Agent;

namespace Medic.Agent.Monitors;

internal sealed record MonitorRunnerOptions
{
    /// <summary>Checks running at once; a heal in progress does not hold a slot.</summary>
    public int MaxConcurrency { get; init; } = 4;

    public bool SystemdRunning { get; init; } = ProcessTarget.SystemdIsRunning;

    /// <summary>Each line a supervised process writes: (monitor, stream, line).</summary>
    public Action<string, string, string>? OnOutputLine { get; init; }

    /// <summary>The agent policy's read_paths, which log and file_age monitors obey; null where no agent policy applies (<c>medic watch</c>).</summary>
    public Policy.ReadPathPolicy? ReadPaths { get; init; }
}

/// <summary>Where one monitor stands, for status output and tests.</summary>
/// <param name="Observations">How many checks have been evaluated: what a caller waits on to know the monitor looked again.</param>
internal sealed record MonitorStatus(string Name, MonitorKind Kind, MonitorPhase Phase, string? LastSummary, int Restarts, bool GaveUp, int? ChildPid, long Observations);

/// <summary>
/// Runs every monitor on one timer loop: it sleeps until the earliest check is due (or a supervised
/// process exits, which makes its monitor due at once), starts the due checks with bounded
/// concurrency, feeds each observation to <see cref="MonitorEvaluator"/>, reports the transitions
/// to <see cref="IMonitorEvents"/>, and runs a process monitor's <see cref="HealLadder"/> while it fires.
/// </summary>
internal sealed class MonitorRunner
{
    private readonly List<Instance> _instances = [];
    private readonly IMonitorEvents _events;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private readonly SemaphoreSlim _concurrency;
    private readonly Lock _gate = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MonitorRunner(IReadOnlyList<MonitorDefinition> definitions, IMonitorEvents events, TimeProvider time, Action<string> log, MonitorRunnerOptions? options = null)
    {
        options ??= new MonitorRunnerOptions();
        _events = events;
        _time = time;
        _log = log;
        _concurrency = new SemaphoreSlim(Math.Max(1, options.MaxConcurrency));
        var now = time.GetUtcNow();
        foreach (var definition in definitions)
        {
            if (MonitorFile.Validate(definition) is { } problem)
            {
                throw new AgentException($"monitor '{definition.Name}': {problem}", "fix the monitor; the format is in docs/monitors.md");
            }

            var instance = new Instance(definition, now);
            switch (definition.Kind)
            {
                case MonitorKind.Process:
                    var output = options.OnOutputLine;
                    var target = new ProcessTarget(definition, options.SystemdRunning, output is null ? null : (stream, line) => output(definition.Name, stream, line));
                    var check = new ProcessCheck(definition, target);
                    instance.Check = check;
                    instance.Target = target;
                    if (definition.Heal is not null && target.CanRestart) instance.Ladder = new HealLadder(definition, check, time, m => log(m));
                    target.ChildExited += () => Wake(instance);
                    break;
                default:
                    instance.Check = CreateCheck(definition, time, options.ReadPaths);
                    break;
            }

            _instances.Add(instance);
            if (instance.Check is ProcessCheck limited) AddLimits(definition, limited, now);
        }
    }

    /// <summary>Each limit of a process monitor is a monitor of its own: its own <c>for</c>, incident type and fingerprint.</summary>
    private void AddLimits(MonitorDefinition definition, ProcessCheck check, DateTimeOffset now)
    {
        if (definition.Limits is not { } limits) return;
        var limited = definition with { ForSeconds = limits.ForSeconds };
        foreach (var (limit, set) in new[] { (ProcessLimit.Cpu, limits.CpuPercent is not null), (ProcessLimit.Memory, limits.MemoryBytes is not null) })
        {
            if (!set) continue;
            var limitCheck = new ProcessLimitCheck(definition, check, limit);
            _instances.Add(new Instance(limited, now) { Check = limitCheck, Key = limitCheck.Key });
        }
    }

    public static IMonitorCheck CreateCheck(MonitorDefinition d, TimeProvider time, Policy.ReadPathPolicy? readPaths = null) => d.Kind switch
    {
        MonitorKind.Http => new HttpCheck(d),
        MonitorKind.Tcp => new TcpCheck(d),
        MonitorKind.Tls => new TlsCheck(d, time),
        MonitorKind.Disk => new DiskCheck(d),
        MonitorKind.Memory => new MemoryCheck(d),
        MonitorKind.Cpu => new CpuCheck(d),
        MonitorKind.Load => new LoadCheck(d),
        MonitorKind.Log => new LogCheck(d, time, readPaths),
        MonitorKind.FileAge => new FileAgeCheck(d, time, readPaths),
        MonitorKind.Command => new CommandCheck(d),
        _ => throw new ArgumentOutOfRangeException(nameof(d), d.Kind, "process monitors are built by the runner"),
    };

    public IReadOnlyList<MonitorStatus> Status()
    {
        lock (_gate)
        {
            return _instances.Select(i => new MonitorStatus(
                i.Key, i.Definition.Kind, i.State.Phase, i.LastSummary, i.Ladder?.History.Count ?? 0, i.Ladder?.GaveUp ?? false, i.Target?.ChildPid, i.Observations)).ToList();
        }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        foreach (var instance in _instances.Where(i => i.Target is not null))
        {
            try
            {
                await instance.Target!.StartIfStoppedAsync(ct);
            }
            catch (AgentException e)
            {
                _log($"{instance.Definition.Name}: could not start: {e.Message}");
            }
        }

        var running = new List<Task>();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                Task wake;
                var next = DateTimeOffset.MaxValue;
                lock (_gate)
                {
                    if (_wake.Task.IsCompleted) _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
                    wake = _wake.Task;
                    var now = _time.GetUtcNow();
                    foreach (var instance in _instances)
                    {
                        if (instance.Running) continue;
                        if (instance.Due <= now)
                        {
                            instance.Running = true;
                            running.Add(RunOneAsync(instance, ct));
                        }
                        else if (instance.Due < next)
                        {
                            next = instance.Due;
                        }
                    }

                    running.RemoveAll(t => t.IsCompleted);
                }

                // A finished check or an exited child completes the wake task; otherwise sleep until the next check is due.
                var delay = next == DateTimeOffset.MaxValue
                    ? TimeSpan.FromMinutes(1)
                    : TimeSpan.FromTicks(Math.Clamp((next - _time.GetUtcNow()).Ticks, TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerMinute));
                try
                {
                    await Task.WhenAny(wake, Task.Delay(delay, _time, ct));
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
        finally
        {
            await Task.WhenAny(Task.WhenAll(running), Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None));
            foreach (var instance in _instances)
            {
                if (instance.Target is not null) await instance.Target.StopAsync();
                (instance.Check as IDisposable)?.Dispose();
            }
        }
    }

    private void Wake(Instance instance)
    {
        lock (_gate)
        {
            instance.Due = DateTimeOffset.MinValue;
            instance.WakeRequested = true;
            _wake.TrySetResult();
        }
    }

    private async Task RunOneAsync(Instance instance, CancellationToken ct)
    {
        try
        {
            lock (_gate) instance.WakeRequested = false;
            Observation observation;
            await _concurrency.WaitAsync(ct);
            try
            {
                observation = await instance.Check.CheckAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                observation = Observation.Fail($"the check itself failed: {e.Message}");
            }
            finally
            {
                _concurrency.Release();
            }

            await EvaluateAsync(instance, observation, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _log($"{instance.Definition.Name}: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            lock (_gate)
            {
                instance.Running = false;
                instance.Due = instance.WakeRequested ? _time.GetUtcNow() : _time.GetUtcNow() + instance.Interval;
                _wake.TrySetResult();
            }
        }
    }

    private async Task EvaluateAsync(Instance instance, Observation observation, CancellationToken ct)
    {
        var d = instance.Definition;
        var (state, transition) = MonitorEvaluator.Next(instance.State, observation, instance.Rules, _time);
        lock (_gate)
        {
            instance.State = state;
            instance.LastSummary = observation.Summary;
            instance.Observations++;
        }

        switch (transition)
        {
            case Transition.Opened:
                _log($"{d.Name}: FIRING: {observation.Summary}");
                var opened = Evidence(observation);

                // The ladder restarts it right after this event: the control plane's pipeline waits for it to heal or give up.
                if (instance.Ladder is { GaveUp: false }) opened[EvidenceKeys.Ladder] = EvidenceKeys.Healing;
                await Emit(_events.OpenedAsync, instance, state.Severity ?? d.Severity, $"{d.Name}: {observation.Summary}", opened, ct, observation.Type);
                break;
            case Transition.SeverityChanged:
                _log($"{d.Name}: now {MonitorText.Severity(state.Severity ?? d.Severity)}: {observation.Summary}");
                await Emit(_events.UpdatedAsync, instance, state.Severity ?? d.Severity, $"{d.Name}: {observation.Summary}", Evidence(observation), ct, observation.Type);
                break;
            case Transition.Resolved:
                _log($"{d.Name}: resolved: {observation.Summary}");
                var evidence = Evidence(observation);
                evidence[EvidenceKeys.Resolution] = EvidenceKeys.Recovered;
                if (instance.Ladder is { } ladder)
                {
                    if (ladder.History.Count > 0) evidence[EvidenceKeys.RestartHistory] = HealLadder.FormatHistory(ladder.History);
                    ladder.Reset();
                }

                await Emit(_events.ResolvedAsync, instance, instance.LastSeverity ?? d.Severity, $"{d.Name} recovered: {observation.Summary}", evidence, ct, observation.Type);
                break;
        }

        if (state.Severity is { } severity) instance.LastSeverity = severity;
        if (instance.Ladder is { GaveUp: false } healer && state.Phase == MonitorPhase.Firing && observation.Verdict == Verdict.Fail)
        {
            var outcome = await healer.HealAsync(observation, ct);
            var restarts = $"{outcome.Attempts} restart{(outcome.Attempts == 1 ? "" : "s")}";
            if (outcome.Healed)
            {
                lock (_gate) instance.State = MonitorEvaluator.Healed(_time);
                _log($"{d.Name}: healed locally after {restarts} in {outcome.Took.TotalSeconds:0.0} s");
                await Emit(_events.ResolvedAsync, instance, instance.LastSeverity ?? d.Severity, $"{d.Name} healed locally after {restarts}", outcome.Evidence, ct);
            }
            else
            {
                await Emit(_events.UpdatedAsync, instance, d.Severity, $"{d.Name}: gave up restarting it ({outcome.Evidence.GetValueOrDefault("gave_up_because")}): {observation.Summary}", outcome.Evidence, ct);
            }
        }
    }

    private static Dictionary<string, string> Evidence(Observation observation)
    {
        var evidence = new Dictionary<string, string>(observation.Evidence ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        evidence.TryAdd(EvidenceKeys.Summary, observation.Summary);
        return evidence;
    }

    private async Task Emit(Func<MonitorEvent, CancellationToken, ValueTask> sink, Instance instance, MonitorSeverity severity, string title, IReadOnlyDictionary<string, string> evidence, CancellationToken ct, string? type = null)
    {
        var d = instance.Definition;
        var e = new MonitorEvent(d.Name, d.Kind, type ?? MonitorText.IncidentType(d.Kind), Fingerprint(instance.Key), severity, title, evidence, d.Labels, _time.GetUtcNow());
        try
        {
            await sink(e, ct);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or HttpRequestException)
        {
            _log($"{d.Name}: the event could not be recorded: {ex.Message}");
        }
    }

    public static string Fingerprint(string monitor) => "monitor/" + monitor;

    private sealed class Instance(MonitorDefinition definition, DateTimeOffset now)
    {
        public MonitorDefinition Definition { get; } = definition;

        /// <summary>The monitor's name, or name/limit for a process monitor's limit: its fingerprint and status line.</summary>
        public string Key { get; init; } = definition.Name;

        public MonitorRules Rules { get; } = MonitorRules.From(definition);

        public TimeSpan Interval { get; } = TimeSpan.FromSeconds(definition.IntervalSeconds ?? (definition.Kind == MonitorKind.Process ? 1 : 15));

        public IMonitorCheck Check { get; set; } = null!;

        public ProcessTarget? Target { get; set; }

        public HealLadder? Ladder { get; set; }

        public MonitorState State { get; set; } = MonitorState.Initial(now);

        public MonitorSeverity? LastSeverity { get; set; }

        public string? LastSummary { get; set; }

        public long Observations { get; set; }

        public DateTimeOffset Due { get; set; } = now;

        public bool Running { get; set; }

        public bool WakeRequested { get; set; }
    }
}
