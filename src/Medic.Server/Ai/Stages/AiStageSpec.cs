using Medic.Contracts;
using Medic.Server.Ai.Agents;
using Medic.Server.Ai.Runs;
using Medic.Server.Fleet;
using Medic.Server.Pipeline;

namespace Medic.Server.Ai.Stages;

/// <summary>The run of a stage that only looks (validate, review, report): the agent's prompt, skills and allowlist, without any tool that acts.</summary>
internal static class AiStageSpec
{
    /// <summary>
    /// Read-only and with manual trust: the toolbox leaves out <c>propose_remediation</c>, and
    /// <see cref="AiRunSpec.ReadOnly"/> every tool that acts (escalate, add_note), whatever the
    /// agent's allowlist names. The stage itself notes what the run found.
    /// </summary>
    public static AiRunSpec ReadOnly(AiAgentDefinition agent, string tenantId, string purpose, IncidentResponse incident, NodeRow? server, int? round, string input, AiRunLimits limits) => new()
    {
        TenantId = tenantId,
        Purpose = purpose,
        Actor = "ai:" + agent.Name,
        Trust = Trust.Manual,
        ReadOnly = true,
        Agent = agent.Name,
        AgentPrompt = agent.SystemPrompt,
        Skills = agent.Skills,
        Tools = agent.EffectiveTools,
        Model = agent.Model,
        Incident = incident,
        Server = server,
        Round = round,
        Input = input,
        Limits = limits,
    };
}
