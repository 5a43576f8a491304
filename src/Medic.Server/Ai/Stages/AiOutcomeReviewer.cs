using System.Globalization;
using Medic.Contracts;
using Medic.Server.Ai.Agents;
using Medic.Server.Ai.Runs;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Pipeline;
using Medic.Server.Runbooks;
using Medic.Server.Storage;

namespace Medic.Server.Ai.Stages;

/// <summary>
/// The agent holding <c>review</c> reviews a round's remediation after verification (resolved or
/// failed): what was done, whether it worked, what to change. Its text goes on the timeline as an
/// <c>ai_run</c> event and stays in the run's bundle. Once per round: the review job finding its
/// note already there does nothing.
/// </summary>
internal sealed class AiOutcomeReviewer(AiAgentStore agents, AiRunner runner, PipelineIncidents incidents, NodeStore nodes, RunbookRunner runs, Database db)
{
    public static readonly AiRunLimits Limits = new(MaxIterations: 10, WallTime: TimeSpan.FromMinutes(3));

    public async Task ReviewAsync(string tenantId, string incidentId, int round, CancellationToken ct)
    {
        var agent = await agents.FindForRoleAsync(tenantId, AiRole.Review, ct);
        if (agent is null || !await runner.ConfiguredAsync(tenantId, agent.Model, ct)) return;
        if (await incidents.GetAsync(tenantId, incidentId, ct) is not { } detail) return;
        var roundText = round.ToString(CultureInfo.InvariantCulture);
        if (detail.Timeline.Any(e => e.Kind == "ai_run" && e.Data?.GetValueOrDefault("purpose") == "review" && e.Data.GetValueOrDefault("round") == roundText)) return;
        RemediationRow? remediation;
        await using (var c = await db.OpenAsync(ct))
        {
            remediation = await PipelineStore.RemediationAsync(c, null, tenantId, incidentId, round);
        }

        if (remediation is null) return;
        var run = remediation.RunId is null ? null : await runs.GetAsync(tenantId, remediation.RunId, ct);
        var server = detail.Incident.ServerId is { } id ? await nodes.FindAsync(tenantId, id, ct) : null;
        var input = AiPrompts.Incident(detail, server, AiPrompts.ReviewTask) + AiPrompts.Remediation(remediation.ToResponse(), run);
        var result = await runner.RunAsync(AiStageSpec.ReadOnly(agent, tenantId, "review", detail.Incident, server, round, input, Limits), null, ct);
        if (result is null) return;
        var bundle = result.Bundle;
        var text = bundle.Outcome == AiRunOutcome.Completed.ToText() && !string.IsNullOrWhiteSpace(bundle.Output)
            ? $"AI review of {remediation.Runbook} ({remediation.Status}) by {agent.Name} (run {bundle.RunId}): {Texts.Truncate(bundle.Output.Trim(), 3000)}"
            : $"AI review of {remediation.Runbook} by {agent.Name} (run {bundle.RunId}) ended {bundle.Outcome}: {Texts.Truncate(bundle.OutcomeReason ?? "the model wrote nothing", 500)}";
        await db.WriteAsync((c, tx) => incidents.NoteAsync(c, tx, tenantId, incidentId, "ai_run", "ai:" + agent.Name, text,
            new Dictionary<string, string>
            {
                ["ai_run"] = bundle.RunId, ["purpose"] = "review", ["round"] = roundText, ["remediation"] = remediation.Id, ["outcome"] = bundle.Outcome, ["model"] = bundle.Model ?? "",
            }), ct);
        if (await incidents.GetAsync(tenantId, incidentId, ct) is { } after) incidents.Publish(tenantId, "noted", after.Incident);
    }
}
