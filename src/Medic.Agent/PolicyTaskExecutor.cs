using System.Text.RegularExpressions;
using Medic.Agent.Diagnostics;
using Medic.Agent.Execution;
using Medic.Agent.Policy;
using Medic.Contracts.Agent;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent;

/// <summary>
/// Runs a verified task if, and only if, this node's policy grants its capability and the
/// blocklist lets it through; a refusal names the rule that refused it.
/// </summary>
internal sealed partial class PolicyTaskExecutor(AgentPolicy policy, Monitors.MonitorHost? monitors = null) : ITaskExecutor
{
    [GeneratedRegex("^[A-Za-z0-9@._:-]{1,200}$")]
    private static partial Regex UnitPattern();

    public async Task<TaskResult> RunAsync(TaskSpec task, Func<TaskOutput, ValueTask> onOutput, CancellationToken ct)
    {
        long seq = 0;
        ValueTask Emit(string stream, string data) => onOutput(new TaskOutput(task.TaskId, Interlocked.Increment(ref seq) - 1, stream, data));
        TaskResult Refuse(string reason) => new(task.TaskId, TaskStatus.Refused, null, 0, false, reason);

        var timeout = TimeSpan.FromSeconds(Math.Clamp(task.TimeoutSeconds, 1, policy.MaxTimeoutSeconds));
        var cap = Math.Clamp(task.OutputCapBytes, 1024, policy.MaxOutputBytes);
        ProcessOutcome outcome;
        switch (task.Kind)
        {
            case TaskKind.Exec:
                if (!policy.Exec) return Refuse("policy: this node does not grant 'exec' (set exec: true in its agent policy)");
                if (Blocklist.Check(task.Argv, policy) is { } rule) return Refuse(rule);
                outcome = await ProcessRunner.RunAsync(new ProcessRequest(task.Argv, timeout) { OutputCapBytes = cap }, Emit, ct);
                break;

            case TaskKind.Diag:
                if (!policy.Diag) return Refuse("policy: this node does not grant 'diag'");
                var args = task.Args ?? new Dictionary<string, string>();
                if (task.Verb is null)
                {
                    return new TaskResult(task.TaskId, TaskStatus.Failed, null, 0, false, "no diagnostic verb given");
                }

                if (!DiagnosticVerbs.TryValidate(task.Verb, args, out var error))
                {
                    return new TaskResult(task.TaskId, TaskStatus.Failed, null, 0, false, error);
                }

                // A verb's own limits (a probe's timeout, du's) may be longer than the task's; the task's wins.
                using (var limit = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    limit.CancelAfter(timeout);
                    outcome = await DiagnosticVerbs.RunAsync(task.Verb, args, Emit, limit.Token);
                    if (outcome.Status != TaskStatus.Completed && limit.IsCancellationRequested && !ct.IsCancellationRequested)
                    {
                        outcome = outcome with { Status = TaskStatus.Timeout, ExitCode = null, Reason = $"'{task.Verb}' did not finish within {timeout.TotalSeconds:0} s" };
                    }
                }

                break;

            case TaskKind.Service:
                if (!policy.Service) return Refuse("policy: this node does not grant 'service'");
                var unit = task.Args?.GetValueOrDefault("unit");
                var action = task.Args?.GetValueOrDefault("action");
                if (unit is null || !UnitPattern().IsMatch(unit) || action is not ("start" or "stop" or "restart" or "status"))
                {
                    return new TaskResult(task.TaskId, TaskStatus.Failed, null, 0, false, "a service task needs unit (a systemd unit name) and action (start, stop, restart or status)");
                }

                outcome = await ProcessRunner.RunAsync(new ProcessRequest(["systemctl", action, "--no-pager", "--", unit], timeout) { OutputCapBytes = cap }, Emit, ct);
                break;

            case TaskKind.Monitors:
                if (monitors is null) return Refuse("this agent runs without a state directory, so it cannot keep monitors (start it with --state-dir)");
                MonitorSet? set;
                try
                {
                    set = System.Text.Json.JsonSerializer.Deserialize(task.Args?.GetValueOrDefault("monitors") ?? "", MonitorJson.Default.MonitorSet);
                }
                catch (System.Text.Json.JsonException e)
                {
                    return new TaskResult(task.TaskId, TaskStatus.Failed, null, 0, false, "the monitor set is not valid JSON: " + e.Message);
                }

                if (set is null) return new TaskResult(task.TaskId, TaskStatus.Failed, null, 0, false, "no monitor set given");
                if (monitors.Check(set) is { } refusal) return Refuse(refusal);
                var changed = monitors.Apply(set);
                await Emit("stdout", changed ? $"applied {set.Monitors.Count} monitor(s): {string.Join(", ", set.Monitors.Select(m => m.Name))}\n" : "no change\n");
                return new TaskResult(task.TaskId, TaskStatus.Completed, 0, 0, false, null);

            default:
                return Refuse($"unknown task kind {task.Kind}");
        }

        return new TaskResult(task.TaskId, outcome.Status, outcome.ExitCode, outcome.DurationMs, outcome.Truncated, outcome.Reason);
    }
}
