using Medic.Contracts;
using Medic.Server.Ai.Agents;
using Medic.Server.Ai.Runs;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Pipeline;
using Medic.Server.Storage;

namespace Medic.Server.Ai.Stages;

/// <summary>
/// An AI agent performing a pipeline stage, when one holds the role and a model is configured;
/// otherwise null, and the rules engine does the stage alone. Triage and diagnosis run here: the
/// agent's proposal goes through the proposal step and the risk gate, and its run is noted on the
/// timeline with the run's id. Validation and review are <see cref="AiProposalValidator"/> and <see cref="AiOutcomeReviewer"/>.
/// </summary>
internal sealed class AiPipelineStage(AiAgentStore agents, AiRunner runner, PipelineIncidents incidents, NodeStore nodes, Database db,
    AiProposalValidator validator, AiOutcomeReviewer reviewer) : IAiStage
{
    public async Task<bool> PerformsAsync(AiStageRole role, string tenantId, CancellationToken ct) =>
        await agents.FindForRoleAsync(tenantId, RoleOf(role), ct) is { } agent && await runner.ConfiguredAsync(tenantId, agent.Model, ct);

    public Task<AiValidation?> ValidateAsync(string tenantId, string incidentId, ProposalToValidate proposal, CancellationToken ct) =>
        validator.ValidateAsync(tenantId, incidentId, proposal, ct);

    public Task ReviewAsync(string tenantId, string incidentId, int round, CancellationToken ct) => reviewer.ReviewAsync(tenantId, incidentId, round, ct);

    private static AiRole RoleOf(AiStageRole role) => role switch
    {
        AiStageRole.Triage => AiRole.Triage,
        AiStageRole.Diagnose => AiRole.Diagnose,
        AiStageRole.Validate => AiRole.Validate,
        _ => AiRole.Review,
    };

    public async Task<AiStageOutcome?> RunAsync(AiStageRole role, string tenantId, string incidentId, int round, CancellationToken ct)
    {
        if (role is not (AiStageRole.Triage or AiStageRole.Diagnose)) throw new ArgumentOutOfRangeException(nameof(role), role, "triage and diagnosis run here; validation and review have their own calls");
        var agent = await agents.FindForRoleAsync(tenantId, RoleOf(role), ct);
        if (agent is null || !await runner.ConfiguredAsync(tenantId, agent.Model, ct)) return null;
        if (await incidents.GetAsync(tenantId, incidentId, ct) is not { } detail) return null;
        var server = detail.Incident.ServerId is { } id ? await nodes.FindAsync(tenantId, id, ct) : null;
        var actor = "ai:" + agent.Name;
        await MoveToDiagnosingAsync(tenantId, incidentId, round, actor, ct);
        var trust = agent.Trust switch { AiTrust.Autonomous => Trust.Autonomous, AiTrust.Manual => Trust.Manual, _ => Trust.Supervised };
        var input = AiPrompts.Incident(detail, server, role == AiStageRole.Triage ? AiPrompts.TriageTask : AiPrompts.DiagnoseTask);
        var result = await runner.RunAsync(
            AiStageSpec.For(agent, tenantId, role == AiStageRole.Triage ? "triage" : "diagnose", trust, input) with { Incident = detail.Incident, Server = server, Round = round },
            null, ct);
        if (result is null) return null;
        var bundle = result.Bundle;
        var summary = Medic.Contracts.Texts.Truncate((bundle.Output ?? bundle.OutcomeReason ?? bundle.Outcome).Trim(), 1500);
        await db.WriteAsync((c, tx) => incidents.NoteAsync(c, tx, tenantId, incidentId, "ai_run", actor,
            $"AI {bundle.Purpose} by {agent.Name}: {bundle.Outcome}, {bundle.ToolCalls} tool calls{(bundle.Proposals.Count > 0 ? ", proposed " + string.Join(", ", bundle.Proposals) : "")}{(bundle.Escalated ? ", escalated" : "")}: {summary}",
            new Dictionary<string, string> { ["ai_run"] = bundle.RunId, ["outcome"] = bundle.Outcome, ["model"] = bundle.Model ?? "" }), ct);
        return new AiStageOutcome(bundle.RunId, bundle.Proposals.Count > 0, bundle.Escalated, summary);
    }

    private async Task MoveToDiagnosingAsync(string tenantId, string incidentId, int round, string actor, CancellationToken ct)
    {
        var moved = await db.WriteAsync<IncidentResponse?>(async (c, tx) =>
        {
            if (await incidents.LockForPipelineAsync(c, tx, tenantId, incidentId) is not { } now || now.Round != round) return null;
            if (now.Incident.Status == IncidentStatus.Diagnosing) return null;
            if (now.Incident.Status == IncidentStatus.Open)
            {
                await incidents.MoveAsync(c, tx, tenantId, incidentId, IncidentTrigger.StartTriage, RemediationPipeline.SystemActor, "triage started", null);
            }

            return await incidents.MoveAsync(c, tx, tenantId, incidentId, IncidentTrigger.StartDiagnosis, actor, "an AI agent diagnoses it with read-only tools", null);
        }, ct);
        if (moved is not null) incidents.Publish(tenantId, "updated", moved);
    }
}
