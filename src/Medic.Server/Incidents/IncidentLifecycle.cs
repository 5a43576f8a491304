using Medic.Contracts;

namespace Medic.Server.Incidents;

/// <summary>What happens to an incident; each may move it to another <see cref="IncidentStatus"/>.</summary>
public enum IncidentTrigger
{
    /// <summary>The pipeline picks a new incident up.</summary>
    StartTriage,

    /// <summary>Triage matched a type; evidence is collected with read-only diagnostics.</summary>
    StartDiagnosis,

    /// <summary>A recipe (runbook) and its parameters were chosen.</summary>
    ProposeRecipe,

    /// <summary>The risk gate says a person must approve.</summary>
    RequestApproval,

    /// <summary>An approver said yes (or the risk gate let an autonomous actor run a low recipe).</summary>
    Approve,

    /// <summary>The risk gate allows running without a person (autonomous trust, low risk).</summary>
    AutoApprove,

    Reject,
    ApprovalExpired,

    /// <summary>The remediation's steps finished; its check is re-run.</summary>
    StartVerification,

    VerificationPassed,
    VerificationFailed,

    /// <summary>A step failed (its rollback runs) or the remediation could not be started.</summary>
    RemediationFailed,

    /// <summary>Nothing automatic applies (no recipe, circuit breaker open, blast radius reached, change window): a person takes over.</summary>
    Escalate,

    /// <summary>A person commented on an escalated incident: it re-enters the pipeline.</summary>
    Comment,

    /// <summary>A person resolved it by hand.</summary>
    ResolveManually,

    /// <summary>The detection source says the problem is over (ignored while a remediation runs: its verification decides).</summary>
    SourceResolved,

    /// <summary>The problem fired again soon after it resolved.</summary>
    Reopen,
}

/// <summary>
/// The incident state machine of DESIGN §6 as a pure function: which trigger may move which
/// status where. Callers record each transition as a timeline event and an audit entry with its actor.
/// </summary>
internal static class IncidentLifecycle
{
    private static readonly IncidentStatus[] Unresolved =
    [
        IncidentStatus.Open, IncidentStatus.Triaging, IncidentStatus.Diagnosing, IncidentStatus.RecipeProposed, IncidentStatus.AwaitingApproval,
        IncidentStatus.Executing, IncidentStatus.Verifying, IncidentStatus.Failed, IncidentStatus.Escalated,
    ];

    /// <summary>The status after <paramref name="trigger"/>, or null with the reason when the trigger does not apply in <paramref name="from"/>.</summary>
    public static (IncidentStatus? To, string? Refusal) Next(IncidentStatus from, IncidentTrigger trigger)
    {
        IncidentStatus? to = (from, trigger) switch
        {
            (IncidentStatus.Open, IncidentTrigger.StartTriage) => IncidentStatus.Triaging,
            (IncidentStatus.Triaging, IncidentTrigger.StartDiagnosis) => IncidentStatus.Diagnosing,
            (IncidentStatus.Triaging or IncidentStatus.Diagnosing, IncidentTrigger.ProposeRecipe) => IncidentStatus.RecipeProposed,
            (IncidentStatus.RecipeProposed, IncidentTrigger.RequestApproval) => IncidentStatus.AwaitingApproval,
            (IncidentStatus.RecipeProposed, IncidentTrigger.AutoApprove) => IncidentStatus.Executing,
            (IncidentStatus.AwaitingApproval, IncidentTrigger.Approve) => IncidentStatus.Executing,
            (IncidentStatus.AwaitingApproval, IncidentTrigger.Reject or IncidentTrigger.ApprovalExpired) => IncidentStatus.Escalated,
            (IncidentStatus.Executing, IncidentTrigger.StartVerification) => IncidentStatus.Verifying,
            (IncidentStatus.Executing or IncidentStatus.Verifying, IncidentTrigger.RemediationFailed) => IncidentStatus.Failed,
            (IncidentStatus.Verifying, IncidentTrigger.VerificationPassed) => IncidentStatus.Resolved,
            (IncidentStatus.Verifying, IncidentTrigger.VerificationFailed) => IncidentStatus.Failed,
            (IncidentStatus.Failed, IncidentTrigger.Escalate) => IncidentStatus.Escalated,
            (IncidentStatus.Open or IncidentStatus.Triaging or IncidentStatus.Diagnosing or IncidentStatus.RecipeProposed, IncidentTrigger.Escalate) => IncidentStatus.Escalated,
            (IncidentStatus.Escalated, IncidentTrigger.Comment) => IncidentStatus.Triaging,
            (IncidentStatus.Resolved, IncidentTrigger.Reopen) => IncidentStatus.Open,
            (_, IncidentTrigger.ResolveManually) when Unresolved.Contains(from) => IncidentStatus.Resolved,
            (_, IncidentTrigger.SourceResolved) when Unresolved.Contains(from) && !IncidentStatuses.RemediationRunning(from) => IncidentStatus.Resolved,
            _ => null,
        };
        return to is null ? (null, Refusal(from, trigger)) : (to, null);
    }

    /// <summary>Every trigger that applies in <paramref name="from"/>, for the console's buttons and the docs.</summary>
    public static IReadOnlyList<IncidentTrigger> Allowed(IncidentStatus from) =>
        Enum.GetValues<IncidentTrigger>().Where(t => Next(from, t).To is not null).ToList();

    private static string Refusal(IncidentStatus from, IncidentTrigger trigger) => (from, trigger) switch
    {
        (IncidentStatus.Resolved, _) => "the incident is resolved; it can only be reopened",
        (IncidentStatus.Executing or IncidentStatus.Verifying, IncidentTrigger.SourceResolved) => "a remediation is running; its verification decides",
        _ => $"'{trigger}' does not apply to an incident that is {from.ToText()}",
    };
}
