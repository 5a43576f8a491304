using Medic.Contracts;
using Medic.Server.Ai.Agents;
using Medic.Server.Ai.Runs;
using Medic.Server.Fleet;
using Medic.Server.Pipeline;

namespace Medic.Server.Ai.Stages;

/// <summary>The run of a stage that only looks (validate, review, report): the agent's prompt, skills and allowlist, without any tool that acts.</summary>
internal static class AiStageSpec
{
    /// <summary>A run by <paramref name="agent"/>: its prompt, skills, allowlist and model, for <paramref name="purpose"/>.</summary>
    public static AiRunSpec For(AiAgentDefinition agent, string tenantId, string purpose, Trust trust, string input) => new()
    {
        TenantId = tenantId,
        Purpose = purpose,
        Actor = "ai:" + agent.Name,
        Trust = trust,
        Agent = agent.Name,
        AgentPrompt = agent.SystemPrompt,
        Skills = agent.Skills,
        Tools = agent.EffectiveTools,
        Model = agent.Model,
        Input = input,
    };

    /// <summary>
    /// Read-only and with manual trust: the toolbox leaves out <c>propose_remediation</c>, and
    /// <see cref="AiRunSpec.ReadOnly"/> every tool that acts (escalate, add_note), whatever the
    /// agent's allowlist names. The stage itself notes what the run found.
    /// </summary>
    public static AiRunSpec ReadOnly(AiAgentDefinition agent, string tenantId, string purpose, IncidentResponse incident, NodeRow? server, int? round, string input, AiRunLimits limits) =>
        For(agent, tenantId, purpose, Trust.Manual, input) with { ReadOnly = true, Incident = incident, Server = server, Round = round, Limits = limits };
}
