using System.Text.Json;
using Medic.Agent.Policy;
using Medic.Contracts.Agent;
using Medic.Contracts;

namespace Medic.Agent.Monitors;

/// <summary>What of a pushed set this node runs, and why it refuses the rest (one reason per refused monitor).</summary>
internal sealed record MonitorAdmission(IReadOnlyList<MonitorDefinition> Accepted, IReadOnlyList<MonitorRefusal> Refused);

internal sealed record MonitorRefusal(string Monitor, string Reason);

/// <summary>
/// Runs this node's monitors: those of the local monitors file and those the control plane
/// pushed (kept in the state directory, so they keep running across restarts and while the link is
/// down). The node's policy has the last word over pushed monitors, each judged on its own: a
/// pushed set is checked before it is kept, and the kept set is checked again against the policy
/// in force at start and at every policy reload. A refused monitor is dropped and reported (agent
/// log and a <c>monitors.refused</c> event to the control plane); the others run.
/// </summary>
internal sealed class MonitorHost
{
    public const string PushedFileName = "pushed-monitors.json";
    public const string RefusedEventKind = "monitors.refused";

    private IReadOnlyList<MonitorDefinition> _local;
    private readonly string _stateDir;
    private readonly IMonitorEvents _events;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private readonly Action<AgentEvent>? _report;
    private readonly Lock _lock = new();
    private AgentPolicy _policy;
    private IReadOnlyList<MonitorDefinition> _pushed;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="report">Where refusals go besides the log: the event spool, on its way to the control plane.</param>
    public MonitorHost(IReadOnlyList<MonitorDefinition> local, string stateDir, AgentPolicy policy, IMonitorEvents events, TimeProvider time, Action<string> log, Action<AgentEvent>? report = null)
    {
        _local = local;
        _stateDir = stateDir;
        _policy = policy;
        _events = events;
        _time = time;
        _log = log;
        _report = report;
        PrivateFiles.Narrow(PushedPath);
        _pushed = LoadPushed(PushedPath);
        Recheck("at start");
    }

    private string PushedPath => Path.Combine(_stateDir, PushedFileName);

    public IReadOnlyList<MonitorDefinition> Pushed
    {
        get
        {
            lock (_lock) return _pushed;
        }
    }

    public AgentPolicy Policy
    {
        get
        {
            lock (_lock) return _policy;
        }
    }

    private static IReadOnlyList<MonitorDefinition> LoadPushed(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), MonitorJson.Default.MonitorSet)?.Monitors ?? [] : [];
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return [];
        }
    }

    /// <summary>Judges each monitor of <paramref name="set"/> on its own against the current policy.</summary>
    public MonitorAdmission Admit(MonitorSet set) => Admit(set.Monitors, Policy);

    /// <summary>Why this node refuses the first refused monitor of the set, or null when it accepts all of them.</summary>
    public string? Check(MonitorSet set) => Admit(set).Refused is [var first, ..] ? first.Reason : null;

    private MonitorAdmission Admit(IReadOnlyList<MonitorDefinition> monitors, AgentPolicy policy)
    {
        var names = new HashSet<string>(_local.Select(m => m.Name), StringComparer.Ordinal);
        var accepted = new List<MonitorDefinition>();
        var refused = new List<MonitorRefusal>();
        foreach (var m in monitors)
        {
            if (Refusal(m, policy, names) is { } reason) refused.Add(new MonitorRefusal(m.Name, reason));
            else accepted.Add(m);
        }

        return new MonitorAdmission(accepted, refused);
    }

    private static string? Refusal(MonitorDefinition m, AgentPolicy policy, HashSet<string> names)
    {
        if (!names.Add(m.Name)) return $"monitor '{m.Name}': the name is already used on this node (its local monitors file, or twice in the set)";
        if (MonitorFile.Validate(m) is { } problem) return $"monitor '{m.Name}': {problem}";
        var argv = m.Kind == MonitorKind.Command ? m.Command : m.Start;
        if (argv is { Count: > 0 })
        {
            if (!policy.Exec) return $"policy: monitor '{m.Name}' runs '{argv[0]}', and this node does not grant 'exec' (set exec: true in its agent policy)";
            if (ExecPolicy.Refusal(argv, policy) is { } rule) return $"monitor '{m.Name}': {rule}";
        }

        if (m.Unit is not null && m.Heal is not null && !policy.Service)
        {
            return $"policy: monitor '{m.Name}' restarts the unit {m.Unit}, and this node does not grant 'service'";
        }

        if (m.Kind is MonitorKind.Log or MonitorKind.FileAge && m.Path is not null && ReadPathPolicy.From(policy).Refusal(m.Path) is { } outside)
        {
            return $"monitor '{m.Name}': {outside}";
        }

        return null;
    }

    /// <summary>
    /// Keeps and runs what <paramref name="set"/> holds that the policy accepts, reporting the rest;
    /// returns whether it changed what runs.
    /// </summary>
    public (bool Changed, MonitorAdmission Admission) Apply(MonitorSet set)
    {
        lock (_lock)
        {
            var admission = Admit(set.Monitors, _policy);
            Report(admission.Refused, "pushed");
            return (Keep(admission.Accepted), admission);
        }
    }

    /// <summary>A new policy (reloaded from its file): the kept monitors are judged again, and those it refuses stop.</summary>
    public MonitorAdmission Reload(AgentPolicy policy)
    {
        lock (_lock)
        {
            var before = _policy;
            _policy = policy;
            var admission = Recheck("after the policy reload");
            if (!before.ReadPaths.SequenceEqual(policy.ReadPaths, StringComparer.Ordinal)) _changed.TrySetResult(); // local log monitors read under the new rule
            return admission;
        }
    }

    /// <summary>The local monitors file read again (SIGHUP): the pushed set is judged again against the new names.</summary>
    public void ReloadLocal(IReadOnlyList<MonitorDefinition> local)
    {
        lock (_lock)
        {
            _local = local;
            Recheck("after the monitors file reload");
            _changed.TrySetResult();
        }
    }

    private MonitorAdmission Recheck(string when)
    {
        lock (_lock)
        {
            var admission = Admit(_pushed, _policy);
            if (admission.Refused.Count == 0) return admission;
            Report(admission.Refused, when);
            Keep(admission.Accepted);
            return admission;
        }
    }

    private bool Keep(IReadOnlyList<MonitorDefinition> accepted)
    {
        var json = JsonSerializer.Serialize(new MonitorSet(accepted), MonitorJson.Default.MonitorSet);
        if (json == JsonSerializer.Serialize(new MonitorSet(_pushed), MonitorJson.Default.MonitorSet)) return false;
        PrivateFiles.WriteAtomic(PushedPath, json);
        _pushed = accepted;
        _changed.TrySetResult();
        return true;
    }

    private void Report(IReadOnlyList<MonitorRefusal> refused, string when)
    {
        if (refused.Count == 0) return;
        foreach (var r in refused) _log($"refused '{r.Monitor}' ({when}): {r.Reason}");
        var data = refused.ToDictionary(r => "monitor." + r.Monitor, r => r.Reason, StringComparer.Ordinal);
        data["count"] = refused.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _report?.Invoke(new AgentEvent(EventSpool.NewId(), _time.GetUtcNow(), RefusedEventKind,
            $"this node's policy refused {refused.Count} monitor(s) ({when}): {string.Join("; ", refused.Select(r => r.Reason))}", data));
    }

    /// <summary>
    /// Runs the monitors until <paramref name="ct"/> is cancelled; a change of the set (a push, a
    /// policy reload that drops one or changes read_paths) replaces only the monitors it changed.
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        MonitorRunner? runner = null;
        Task running = Task.CompletedTask;
        IReadOnlyList<string>? readPaths = null;
        while (!ct.IsCancellationRequested)
        {
            Task changed;
            IReadOnlyList<MonitorDefinition> all;
            AgentPolicy policy;
            lock (_lock)
            {
                _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
                changed = _changed.Task;
                all = [.. _local, .. _pushed];
                policy = _policy;
            }

            if (runner is null)
            {
                runner = new MonitorRunner(all, _events, _time, _log, new MonitorRunnerOptions { ReadPaths = ReadPathPolicy.From(policy) });
                running = runner.RunAsync(ct);
            }
            else
            {
                var update = runner.Update(all, ReadPathPolicy.From(policy), !readPaths!.SequenceEqual(policy.ReadPaths, StringComparer.Ordinal));
                _log($"monitors changed: now {all.Count} ({Describe(update)})");
            }

            readPaths = policy.ReadPaths;
            await Task.WhenAny(running, changed); // the runner ends when ct is cancelled
            if (running.IsCompleted) break;
        }

        await running;
    }

    private static string Describe(MonitorRunner.MonitorChanges c)
    {
        var parts = new List<string>();
        if (c.Added.Count > 0) parts.Add("started " + string.Join(", ", c.Added));
        if (c.Replaced.Count > 0) parts.Add("restarted (changed) " + string.Join(", ", c.Replaced));
        if (c.Removed.Count > 0) parts.Add("stopped " + string.Join(", ", c.Removed));
        parts.Add($"{c.Unchanged} unchanged kept running");
        return string.Join("; ", parts);
    }
}
