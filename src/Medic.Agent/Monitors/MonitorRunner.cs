using System.Text.Json;
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
/// <see cref="Update"/> changes the set while it runs: only monitors whose definition changed are
/// replaced (a supervised child of an unchanged monitor keeps running, with the same pid).
/// </summary>
internal sealed class MonitorRunner
{
    private readonly List<Instance> _instances = [];
    private readonly List<Task> _retiring = [];
    private readonly IMonitorEvents _events;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private readonly MonitorRunnerOptions _options;
    private readonly SemaphoreSlim _concurrency;
    private readonly Lock _gate = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MonitorRunner(IReadOnlyList<MonitorDefinition> definitions, IMonitorEvents events, TimeProvider time, Action<string> log, MonitorRunnerOptions? options = null)
    {
        _options = options ?? new MonitorRunnerOptions();
        _events = events;
        _time = time;
        _log = log;
        _concurrency = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrency));
        Validate(definitions);
        foreach (var definition in definitions) _instances.AddRange(CreateGroup(definition, _options.ReadPaths, predecessor: null));
    }

    private static void Validate(IReadOnlyList<MonitorDefinition> definitions)
    {
        foreach (var definition in definitions)
        {
            if (MonitorFile.Validate(definition) is { } problem)
            {
                throw new AgentException($"monitor '{definition.Name}': {problem}", "fix the monitor; the format is in docs/monitors.md");
            }
        }
    }

    /// <summary>A monitor's instance, and for a process monitor with limits one more instance per limit (it follows the process monitor's target).</summary>
    private List<Instance> CreateGroup(MonitorDefinition definition, Policy.ReadPathPolicy? readPaths, Task? predecessor)
    {
        var instance = Create(definition, readPaths, predecessor);
        var group = new List<Instance> { instance };
        if (instance.Check is ProcessCheck check && definition.Limits is { } limits)
        {
            // Each limit of a process monitor is a monitor of its own: its own for, incident type and fingerprint.
            var limited = definition with { ForSeconds = limits.ForSeconds };
            foreach (var (limit, set) in new[] { (ProcessLimit.Cpu, limits.CpuPercent is not null), (ProcessLimit.Memory, limits.MemoryBytes is not null) })
            {
                if (!set) continue;
                var limitCheck = new ProcessLimitCheck(definition, check, limit);
                group.Add(new Instance(limited, _time.GetUtcNow()) { Check = limitCheck, Key = limitCheck.Key });
            }
        }

        return group;
    }

    private Instance Create(MonitorDefinition definition, Policy.ReadPathPolicy? readPaths, Task? predecessor)
    {
        var instance = new Instance(definition, _time.GetUtcNow()) { Predecessor = predecessor };
        switch (definition.Kind)
        {
            case MonitorKind.Process:
                var output = _options.OnOutputLine;
                var target = new ProcessTarget(definition, _options.SystemdRunning, output is null ? null : (stream, line) => output(definition.Name, stream, line));
                var check = new ProcessCheck(definition, target);
                instance.Check = check;
                instance.Target = target;
                if (definition.Heal is not null && target.CanRestart) instance.Ladder = new HealLadder(definition, check, _time, m => _log(m));
                target.ChildExited += () => Wake(instance);
                break;
            default:
                instance.Check = CreateCheck(definition, _time, readPaths);
                break;
        }

        return instance;
    }

    /// <summary>What <see cref="Update"/> did, by monitor name.</summary>
    internal sealed record MonitorChanges(IReadOnlyList<string> Added, IReadOnlyList<string> Replaced, IReadOnlyList<string> Removed, int Unchanged);

    /// <summary>
    /// Runs <paramref name="definitions"/> from now on: a monitor whose definition is the same keeps
    /// its state, its ladder and its supervised child; a changed one is stopped and started anew (the
    /// new child only after the old one is gone, since it likely wants the same port); a removed one
    /// is stopped. With <paramref name="readPathsChanged"/>, log and file_age monitors are rebuilt
    /// under <paramref name="readPaths"/>.
    /// </summary>
    public MonitorChanges Update(IReadOnlyList<MonitorDefinition> definitions, Policy.ReadPathPolicy? readPaths, bool readPathsChanged)
    {
        Validate(definitions);
        var added = new List<string>();
        var replaced = new List<string>();
        var removed = new List<string>();
        lock (_gate)
        {
            var wanted = definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);
            var kept = new Dictionary<string, List<Instance>>(StringComparer.Ordinal);
            var retired = new Dictionary<string, Task>(StringComparer.Ordinal);
            foreach (var group in _instances.GroupBy(i => i.Definition.Name, StringComparer.Ordinal))
            {
                // A process monitor and its limits go together: the limits watch the monitor's own target.
                var name = group.Key;
                var main = group.First(i => i.Key == name);
                var rereads = readPathsChanged && main.Definition.Kind is MonitorKind.Log or MonitorKind.FileAge;
                if (wanted.TryGetValue(name, out var definition) && Same(definition, main.Definition) && !rereads)
                {
                    kept[name] = group.ToList();
                    continue;
                }

                foreach (var limit in group.Where(i => i != main)) Retire(limit);
                retired[name] = Retire(main);
                (wanted.ContainsKey(name) ? replaced : removed).Add(name);
            }

            _instances.Clear();
            foreach (var definition in definitions)
            {
                if (kept.TryGetValue(definition.Name, out var same))
                {
                    _instances.AddRange(same);
                    continue;
                }

                _instances.AddRange(CreateGroup(definition, readPaths, retired.GetValueOrDefault(definition.Name)));
                if (!retired.ContainsKey(definition.Name)) added.Add(definition.Name);
            }

            _wake.TrySetResult();
            return new MonitorChanges(added, replaced, removed, kept.Count);
        }
    }

    private static bool Same(MonitorDefinition a, MonitorDefinition b) =>
        JsonSerializer.Serialize(a, MonitorJson.Default.MonitorDefinition) == JsonSerializer.Serialize(b, MonitorJson.Default.MonitorDefinition);

    /// <summary>Stops one monitor: cancels its check or heal, then stops its supervised child. Called under the gate.</summary>
    private Task Retire(Instance instance)
    {
        var running = instance.Current ?? Task.CompletedTask;
        var task = Task.Run(async () =>
        {
            await instance.Stop.CancelAsync();
            await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None));
            if (instance.Predecessor is { } before) await before;
            if (instance.Target is not null) await instance.Target.StopAsync();
            (instance.Check as IDisposable)?.Dispose();
        });
        _retiring.Add(task);
        return task;
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

    /// <summary>
    /// Has the ladder of <paramref name="monitor"/>, which gave up, restart it once more now (a fix
    /// was made); completes with whether it is healthy again. False when it has no ladder.
    /// </summary>
    public Task<bool> RetryNowAsync(string monitor, string why)
    {
        Instance? instance;
        lock (_gate) instance = _instances.FirstOrDefault(i => i.Key == monitor && i.Ladder is not null);
        if (instance?.Ladder is not { } ladder) return Task.FromResult(false);
        var done = ladder.RequestRetry(why);
        Wake(instance);
        return done;
    }

    public async Task RunAsync(CancellationToken ct)
    {
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
                            instance.Current = RunOneAsync(instance, ct);
                            running.Add(instance.Current);
                        }
                        else if (instance.Due < next)
                        {
                            next = instance.Due;
                        }
                    }

                    running.RemoveAll(t => t.IsCompleted);
                    _retiring.RemoveAll(t => t.IsCompleted);
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
            List<Instance> instances;
            List<Task> retiring;
            lock (_gate)
            {
                instances = [.. _instances];
                retiring = [.. _retiring];
            }

            await Task.WhenAny(Task.WhenAll([.. running, .. retiring]), Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None));
            foreach (var instance in instances)
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

    private async Task RunOneAsync(Instance instance, CancellationToken runToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(runToken, instance.Stop.Token);
        var ct = linked.Token;
        try
        {
            lock (_gate) instance.WakeRequested = false;
            if (!instance.Started)
            {
                instance.Started = true;
                if (instance.Predecessor is { } before) await before.WaitAsync(ct);
                await StartAsync(instance, ct);
            }

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

    /// <summary>Starts a supervised command that is not running yet: at start, or when its monitor is added or changed (no incident).</summary>
    private async Task StartAsync(Instance instance, CancellationToken ct)
    {
        if (instance.Target is null) return;
        try
        {
            await instance.Target.StartIfStoppedAsync(ct);
        }
        catch (AgentException e)
        {
            _log($"{instance.Definition.Name}: could not start: {e.Message}");
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
        if (instance.Ladder is { } healer && state.Phase == MonitorPhase.Firing && observation.Verdict == Verdict.Fail)
        {
            HealOutcome outcome;
            if (!healer.GaveUp) outcome = await healer.HealAsync(observation, ct);
            else if (healer.RetryReason(out var changed) is { } why) outcome = await healer.RetryAsync(observation, why, changed, ct);
            else return;

            var restarts = $"{outcome.Attempts} restart{(outcome.Attempts == 1 ? "" : "s")}";
            if (outcome.Healed)
            {
                lock (_gate) instance.State = MonitorEvaluator.Healed(_time);
                var how = outcome.Retry is null ? $"healed locally after {restarts}" : $"healed locally on a retry after giving up ({outcome.Retry})";
                _log($"{d.Name}: {how} in {outcome.Took.TotalSeconds:0.0} s");
                await Emit(_events.ResolvedAsync, instance, instance.LastSeverity ?? d.Severity, $"{d.Name} {how}", outcome.Evidence, ct);
            }
            else if (outcome.Retry is null)
            {
                await Emit(_events.UpdatedAsync, instance, d.Severity, $"{d.Name}: gave up restarting it ({outcome.Evidence.GetValueOrDefault("gave_up_because")}): {observation.Summary}", outcome.Evidence, ct);
            }
            else if (outcome.Evidence.ContainsKey(HealLadder.ChangedKey))
            {
                // A person's fix that did not work is worth telling; a periodic retry that failed is not news.
                await Emit(_events.UpdatedAsync, instance, d.Severity, $"{d.Name}: still down after a retry ({outcome.Retry}): {outcome.Evidence.GetValueOrDefault(LikelyCause.Key) ?? observation.Summary}", outcome.Evidence, ct);
            }
            else
            {
                _log($"{d.Name}: still down after {outcome.Retry}; {outcome.Evidence.GetValueOrDefault(EvidenceKeys.NextRetry)}");
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

        /// <summary>Its supervised child has been started (or found running): done by its first run.</summary>
        public bool Started { get; set; }

        /// <summary>The check or heal in progress, for a retire to wait on.</summary>
        public Task? Current { get; set; }

        /// <summary>The retire of the instance this one replaces: its child must be gone before this one starts.</summary>
        public Task? Predecessor { get; init; }

        /// <summary>Cancelled when the monitor is removed or replaced.</summary>
        public CancellationTokenSource Stop { get; } = new();
    }
}
