using Medic.Contracts.Agent;
using Medic.Server.Fleet;
using Medic.Server.Gateway;

namespace Medic.Server.Runbooks;

/// <summary>
/// Steps a server runs as a signed task (through its agent, or ssh for an agentless server):
/// a command (<c>run</c>, <c>shell</c>), a diagnostic verb, a service action.
/// </summary>
internal sealed class TaskSteps(TaskDispatcher dispatcher)
{
    public async Task<StepOutcome> CommandAsync(NodeRow node, RunbookStep step, IReadOnlyList<StepValue>? argv, string? shell, RunValues values, Func<TaskOutput, ValueTask> onOutput)
    {
        var argvToRun = RunbookPlan.TaskArgv(RunbookPlan.Command(argv, shell, values), values.Environment(step));
        return StepOutcome.FromTask(await dispatcher.RunAsync(node, TaskKind.Exec, argvToRun, null, null, Seconds(step.Timeout), onOutput, CancellationToken.None));
    }

    public async Task<StepOutcome> DiagAsync(NodeRow node, string? verb, IReadOnlyDictionary<string, StepValue> args, TimeSpan timeout, RunValues values, Func<TaskOutput, ValueTask> onOutput) =>
        StepOutcome.FromTask(await dispatcher.RunAsync(node, TaskKind.Diag, [], verb,
            args.ToDictionary(a => a.Key, a => values.Resolve(a.Value), StringComparer.Ordinal), Seconds(timeout), onOutput, CancellationToken.None));

    public async Task<StepOutcome> ServiceAsync(NodeRow node, RunbookStep step, RunValues values, Func<TaskOutput, ValueTask> onOutput) =>
        StepOutcome.FromTask(await dispatcher.RunAsync(node, TaskKind.Service, [], null,
            new Dictionary<string, string> { ["unit"] = values.Resolve(step.Unit!), ["action"] = step.ServiceAction! }, Seconds(step.Timeout), onOutput, CancellationToken.None));

    /// <summary>A task's timeout in whole seconds, at least one.</summary>
    public static int Seconds(TimeSpan t) => Math.Max(1, (int)Math.Ceiling(t.TotalSeconds));
}
