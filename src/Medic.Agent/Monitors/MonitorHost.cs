using System.Text.Json;
using Medic.Agent.Policy;
using Medic.Contracts.Agent;

namespace Medic.Agent.Monitors;

/// <summary>
/// Runs this node's monitors: those of the local monitors file and those the control plane
/// pushed (kept in the state directory, so they keep running across restarts and while the link is
/// down). A new pushed set is checked against the local policy first; when it differs from the
/// running one, the runner restarts with the new list.
/// </summary>
internal sealed class MonitorHost(IReadOnlyList<MonitorDefinition> local, string stateDir, AgentPolicy policy, IMonitorEvents events, TimeProvider time, Action<string> log)
{
    public const string PushedFileName = "pushed-monitors.json";

    private readonly Lock _lock = new();
    private IReadOnlyList<MonitorDefinition> _pushed = LoadPushed(Path.Combine(stateDir, PushedFileName));
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<MonitorDefinition> Pushed
    {
        get
        {
            lock (_lock) return _pushed;
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

    /// <summary>Why this node refuses the set (the rule, named), or null when it is accepted.</summary>
    public string? Check(MonitorSet set)
    {
        var names = new HashSet<string>(local.Select(m => m.Name), StringComparer.Ordinal);
        foreach (var m in set.Monitors)
        {
            if (!names.Add(m.Name)) return $"monitor '{m.Name}': the name is already used on this node (its local monitors file, or twice in the set)";
            if (MonitorFile.Validate(m) is { } problem) return $"monitor '{m.Name}': {problem}";
            var argv = m.Kind == MonitorKind.Command ? m.Command : m.Start;
            if (argv is { Count: > 0 })
            {
                if (!policy.Exec) return $"policy: monitor '{m.Name}' runs '{argv[0]}', and this node does not grant 'exec' (set exec: true in its agent policy)";
                if (Blocklist.Check(argv, policy) is { } rule) return $"monitor '{m.Name}': {rule}";
            }

            if (m.Unit is not null && m.Heal is not null && !policy.Service)
            {
                return $"policy: monitor '{m.Name}' restarts the unit {m.Unit}, and this node does not grant 'service'";
            }
        }

        return null;
    }

    /// <summary>Accepts a pushed set (after <see cref="Check"/>); returns whether it changed what runs.</summary>
    public bool Apply(MonitorSet set)
    {
        var json = JsonSerializer.Serialize(set, MonitorJson.Default.MonitorSet);
        lock (_lock)
        {
            if (json == JsonSerializer.Serialize(new MonitorSet(_pushed), MonitorJson.Default.MonitorSet)) return false;
            var path = Path.Combine(stateDir, PushedFileName);
            File.WriteAllText(path + ".tmp", json);
            File.Move(path + ".tmp", path, overwrite: true);
            _pushed = set.Monitors;
            _changed.TrySetResult();
            return true;
        }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Task changed;
            IReadOnlyList<MonitorDefinition> all;
            lock (_lock)
            {
                _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
                changed = _changed.Task;
                all = [.. local, .. _pushed];
            }

            using var run = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var runner = all.Count == 0 ? null : new MonitorRunner(all, events, time, log);
            var running = runner?.RunAsync(run.Token) ?? Task.Delay(Timeout.Infinite, run.Token);
            await Task.WhenAny(running, changed);
            await run.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
            }

            if (changed.IsCompleted) log($"monitors changed: now {Pushed.Count} from the control plane and {local.Count} from the local file");
        }
    }
}
