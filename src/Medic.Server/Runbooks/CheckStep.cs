using System.Globalization;
using System.Text;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Fleet;

namespace Medic.Server.Runbooks;

/// <summary>
/// A <c>check</c> step: a command, a diagnostic verb or an HTTP probe, tried up to its retries + 1
/// times, its delay apart, until it passes; a refusal is final, since the agent's policy will not
/// change between attempts. A check that does not pass lists every attempt in its stderr.
/// </summary>
internal sealed class CheckStep(TaskSteps tasks, HttpStep http, TimeProvider time)
{
    public async Task<StepOutcome> RunAsync(NodeRow node, RunbookStep step, RunValues values, Func<TaskOutput, ValueTask> onOutput)
    {
        var check = step.Check!;
        var tries = new StringBuilder();
        StepOutcome last = StepOutcome.Fail("not tried");
        for (var attempt = 1; attempt <= check.Retries + 1; attempt++)
        {
            if (attempt > 1 && check.Delay > TimeSpan.Zero) await Task.Delay(check.Delay, time);
            last = check switch
            {
                { Http: { } h } => await http.RunAsync(node, h, step.Timeout, values, onOutput),
                { Verb: { } verb } => (await tasks.DiagAsync(node, verb, check.Args!, step.Timeout, values, onOutput)).Expect(check.ExpectOutput),
                _ => (await tasks.CommandAsync(node, step, check.Argv, check.Shell, values, onOutput)).Expect(check.ExpectOutput),
            };
            if (last.Status == RunbookStepStatus.Ok) break;
            tries.Append(CultureInfo.InvariantCulture, $"attempt {attempt}: {last.Status.ToText()}{(last.Reason is null ? "" : ": " + last.Reason)}\n");
            if (last.Status == RunbookStepStatus.Refused) break; // the agent's policy will not change between attempts
        }

        var attempts = check.Retries + 1;
        return last.Status == RunbookStepStatus.Ok
            ? last
            : last with { Reason = $"the check did not pass{(attempts > 1 ? $" in {attempts} attempts" : "")}: {last.Reason ?? last.Status.ToText()}", Stderr = tries + last.Stderr };
    }
}
