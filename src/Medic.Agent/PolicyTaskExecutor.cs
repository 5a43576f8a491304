using System.Text.RegularExpressions;
using Medic.Agent.Diagnostics;
using Medic.Agent.Execution;
using Medic.Agent.Policy;
using Medic.Contracts.Agent;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent;

/// <summary>
/// Runs a verified task if, and only if, this node's policy grants its capability and the
/// blocklist (and the exec allowlist, when the policy has one) lets it through; a refusal names
/// the rule that refused it. The policy can be replaced while running (a reload); each task is
/// judged by the policy in force when it arrives.
/// </summary>
internal sealed partial class PolicyTaskExecutor(AgentPolicy initialPolicy, Monitors.MonitorHost? monitors = null) : ITaskExecutor
{
    private AgentPolicy _policy = initialPolicy;

    public AgentPolicy Policy
    {
        get => Volatile.Read(ref _policy);
        set => Volatile.Write(ref _policy, value);
    }

    [GeneratedRegex("^[A-Za-z0-9@._:-]{1,200}$")]
    private static partial Regex UnitPattern();

    public async Task<TaskResult> RunAsync(TaskSpec task, Func<TaskOutput, ValueTask> onOutput, CancellationToken ct)
    {
        var policy = Policy;
        long seq = 0;
        ValueTask Emit(string stream, string data) => onOutput(new TaskOutput(task.TaskId, Interlocked.Increment(ref seq) - 1, stream, data));
        TaskResult Refuse(string reason) => new(task.TaskId, TaskStatus.Refused, null, 0, false, reason);

        var timeout = TimeSpan.FromSeconds(Math.Clamp(task.TimeoutSeconds, 1, policy.MaxTimeoutSeconds));
        var cap = Math.Clamp(task.OutputCapBytes, 1024, policy.MaxOutputBytes);
        ProcessOutcome outcome;
        switch (task.Kind)
        {
            case TaskKind.Exec:
                if (ExecPolicy.Refusal(task.Argv, policy) is { } rule) return Refuse(rule);
                outcome = await ProcessRunner.RunAsync(new ProcessRequest(task.Argv, timeout) { OutputCapBytes = cap }, Emit, ct);
                break;

            case TaskKind.Diag:
                if (!policy.Diag) return Refuse("policy: this node does not grant 'diag'");
                var args = task.Args ?? new Dictionary<string, string>();
                if (task.Verb is null)
                {
                    return new TaskResult(task.TaskId, TaskStatus.Failed, null, 0, false, "no diagnostic verb given");
                }

                var diagnostics = ReadPathPolicy.From(policy).DiagnosticOptions;
                if (!DiagnosticVerbs.TryValidate(task.Verb, args, diagnostics, out var error))
                {
                    return new TaskResult(task.TaskId, TaskStatus.Failed, null, 0, false, error);
                }

                // A verb's own limits (a probe's timeout, du's) may be longer than the task's; the task's wins.
                using (var limit = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    limit.CancelAfter(timeout);
                    outcome = await DiagnosticVerbs.RunAsync(task.Verb, args, diagnostics, Emit, limit.Token);
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

                // Each monitor is judged on its own: the accepted ones run, the refused ones are named.
                var (changed, admission) = monitors.Apply(set);
                var accepted = admission.Accepted;
                await Emit("stdout", changed ? $"applied {accepted.Count} monitor(s): {string.Join(", ", accepted.Select(m => m.Name))}\n" : "no change\n");
                foreach (var refused in admission.Refused) await Emit("stderr", $"refused {refused.Monitor}: {refused.Reason}\n");
                return admission.Refused.Count == 0
                    ? new TaskResult(task.TaskId, TaskStatus.Completed, 0, 0, false, null)
                    : new TaskResult(task.TaskId, TaskStatus.Refused, null, 0, false,
                        $"refused {admission.Refused.Count} of {set.Monitors.Count} monitor(s), the others run: {string.Join("; ", admission.Refused.Select(r => r.Reason))}");

            default:
                return Refuse($"unknown task kind {task.Kind}");
        }

        return new TaskResult(task.TaskId, outcome.Status, outcome.ExitCode, outcome.DurationMs, outcome.Truncated, outcome.Reason);
    }
}
