namespace Medic.Server.Runbooks;

/// <summary>A <c>notify</c> step's message, with where it came from.</summary>
internal sealed record RunbookNotification(string TenantId, string RunId, string Runbook, string? Server, string Actor, string Message);

/// <summary>Where <c>notify</c> steps go. The notifications capability replaces the default, which only logs.</summary>
internal interface IRunbookNotifier
{
    Task NotifyAsync(RunbookNotification notification, CancellationToken ct);
}

/// <summary>An <c>approval</c> step reached during a run.</summary>
/// <param name="Confirmed">The caller confirmed the runbook's approval steps when starting the run.</param>
internal sealed record RunbookApprovalRequest(string TenantId, string RunId, string Runbook, int Version, string Risk, string? Server, string Step, string Message, string Actor, bool Confirmed);

internal sealed record RunbookApprovalDecision(bool Approved, string Reason);

/// <summary>
/// Decides an <c>approval</c> step. The run waits for the answer, so an implementation may block
/// until a person decides (the pipeline's approvals); it must honour <c>ct</c>.
/// </summary>
internal interface IRunbookApprovals
{
    Task<RunbookApprovalDecision> DecideAsync(RunbookApprovalRequest request, CancellationToken ct);
}

/// <summary>Manual runs: the person who started the run confirmed its approval steps up front, or they are refused.</summary>
internal sealed class ConfirmedAtStartApprovals : IRunbookApprovals
{
    public Task<RunbookApprovalDecision> DecideAsync(RunbookApprovalRequest request, CancellationToken ct) => Task.FromResult(request.Confirmed
        ? new RunbookApprovalDecision(true, $"confirmed by {request.Actor} when the run started")
        : new RunbookApprovalDecision(false, "not confirmed: this runbook asks for approval; run it from a terminal to confirm, or pass --yes (confirmed: true)"));
}

/// <summary>Until notification channels exist: a <c>notify</c> step's message goes to the server log.</summary>
internal sealed partial class LoggingRunbookNotifier(ILogger<LoggingRunbookNotifier> log) : IRunbookNotifier
{
    public Task NotifyAsync(RunbookNotification n, CancellationToken ct)
    {
        LogNotify(n.RunId, n.Runbook, n.Server ?? "-", n.Message);
        return Task.CompletedTask;
    }
}
