using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Fleet;

namespace Medic.Server.Runbooks;

/// <summary>Steps the control plane itself takes, on no server: <c>approval</c>, <c>notify</c> and <c>wait</c>.</summary>
internal sealed class ControlPlaneSteps(IRunbookApprovals approvals, IRunbookNotifier notifier, TimeProvider time)
{
    public async Task<StepOutcome> ApprovalAsync(RunState run, NodeRow current, RunbookStep step, RunValues values)
    {
        var message = values.Interpolate(step.Message!, uriEscape: false);
        var decision = await approvals.DecideAsync(new RunbookApprovalRequest(run.Row.TenantId, run.Row.Id, run.Runbook.Name, run.Runbook.Version,
            run.Runbook.Risk.ToString().ToLowerInvariant(), current.Name, step.Name, message, run.Row.Actor, run.Confirmed), CancellationToken.None);
        return decision.Approved ? StepOutcome.Ok(message, decision.Reason) : StepOutcome.Fail(decision.Reason, message, RunbookStepStatus.Refused);
    }

    public async Task<StepOutcome> NotifyAsync(RunState run, NodeRow current, RunbookStep step, RunValues values)
    {
        var message = values.Interpolate(step.Message!, uriEscape: false);
        await notifier.NotifyAsync(new RunbookNotification(run.Row.TenantId, run.Row.Id, run.Runbook.Name, current.Name, run.Row.Actor, message), CancellationToken.None);
        return StepOutcome.Ok(message);
    }

    public async Task<StepOutcome> WaitAsync(TimeSpan wait)
    {
        await Task.Delay(wait, time);
        return StepOutcome.Ok(reason: "waited " + Durations.Format(wait));
    }
}
