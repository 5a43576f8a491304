using System.Data.Common;
using Medic.Contracts;
using Medic.Server.Incidents;

namespace Medic.Server.Pipeline;

/// <summary>
/// The remediation pipeline (DESIGN §6): triage proposes a recipe (<see cref="TriageStep"/>), the risk
/// gate decides who must agree (<see cref="ProposalStep"/>), an approver (or nobody, for a low recipe from
/// an autonomous actor) lets it run (<see cref="ApprovalStep"/>), the runbook runs on the incident's server
/// (<see cref="ExecutionStep"/>), verification re-checks (<see cref="VerificationStep"/>), and the incident
/// ends resolved or escalated. Each step is a job (<see cref="PipelineEntry"/> kinds) whose state changes are
/// written in one transaction with the incident's transition, its timeline event and audit entry, and the
/// next step's job; a step that runs again after a crash finds its work done and moves on, and the
/// runbook run carries the idempotency key <c>pipeline:{incident}:{round}:run</c>, so a fix runs at most once.
/// </summary>
internal static class RemediationPipeline
{
    public const string SystemActor = "system:pipeline";

    /// <summary>A transition a step cannot do without: refused, it throws (409) and the step's transaction is rolled back.</summary>
    public static async Task<IncidentResponse> MoveAsync(this PipelineIncidents incidents, DbConnection c, DbTransaction tx, string tenantId, string incidentId, IncidentTrigger trigger,
        string actor, string message, IReadOnlyDictionary<string, string>? data)
    {
        var (incident, refusal) = await incidents.TransitionAsync(c, tx, tenantId, incidentId, trigger, actor, message, data);
        if (refusal is not null || incident is null) throw new ProposalException(refusal ?? "no such incident", "", StatusCodes.Status409Conflict);
        return incident;
    }
}
