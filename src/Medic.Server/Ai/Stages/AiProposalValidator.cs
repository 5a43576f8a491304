using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Ai.Agents;
using Medic.Server.Ai.Runs;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Pipeline;

namespace Medic.Server.Ai.Stages;

/// <summary>
/// The agent holding <c>validate</c> checks a proposal against the evidence, with the read-only
/// tools, before the risk gate decides. Its verdict is the last <c>VERDICT:</c> line of its answer;
/// a run that fails, times out or says neither agree nor disagree gives no verdict, and the gate
/// decides as without it (<see cref="ProposalStep"/> notes which).
/// </summary>
internal sealed partial class AiProposalValidator(AiAgentStore agents, AiRunner runner, PipelineIncidents incidents, NodeStore nodes, ILogger<AiProposalValidator> log)
{
    /// <summary>
    /// Short: the validation runs inside the proposal, which may itself be a tool call of a diagnosing
    /// run (30 s per tool call) or a person waiting on <c>medic ask</c> or MCP.
    /// </summary>
    public static readonly AiRunLimits Limits = new(MaxIterations: 6, WallTime: TimeSpan.FromSeconds(20));

    public async Task<AiValidation?> ValidateAsync(string tenantId, string incidentId, ProposalToValidate proposal, CancellationToken ct)
    {
        var agent = await agents.FindForRoleAsync(tenantId, AiRole.Validate, ct);
        if (agent is null || !await runner.ConfiguredAsync(tenantId, agent.Model, ct)) return null;
        if (await incidents.GetAsync(tenantId, incidentId, ct) is not { } detail) return null;
        try
        {
            var server = detail.Incident.ServerId is { } id ? await nodes.FindAsync(tenantId, id, ct) : null;
            var input = AiPrompts.Incident(detail, server, AiPrompts.ValidateTask)
                + AiPrompts.Proposal(proposal.Recipe, proposal.Version, proposal.Risk, proposal.Description, proposal.Parameters, proposal.Server, proposal.Proposer, proposal.Why);
            var result = await runner.RunAsync(AiStageSpec.ReadOnly(agent, tenantId, "validate", detail.Incident, server, null, input, Limits), null, ct);
            if (result is null) return null;
            var bundle = result.Bundle;
            if (bundle.Outcome != AiRunOutcome.Completed.ToText())
            {
                return new AiValidation(bundle.RunId, agent.Name, AiVerdict.NoVerdict, Texts.Truncate($"the run ended {bundle.Outcome}: {bundle.OutcomeReason ?? "no reason given"}", 500));
            }

            return Verdict(bundle.RunId, agent.Name, bundle.Output ?? "");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogValidationFailed(ex, incidentId, agent.Name);
            return new AiValidation("none", agent.Name, AiVerdict.NoVerdict, Texts.Truncate("the validation failed: " + ex.Message, 500));
        }
    }

    /// <summary>The verdict in the last line that states one; a disagreement without a reason gets the text before it.</summary>
    internal static AiValidation Verdict(string runId, string agent, string output)
    {
        var lines = output.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = lines.Length - 1; i >= 0; i--)
        {
            if (VerdictLine().Match(lines[i]) is not { Success: true } m) continue;
            if (m.Groups["verdict"].Value.Equals("agree", StringComparison.OrdinalIgnoreCase)) return new AiValidation(runId, agent, AiVerdict.Agree, "");
            var reason = m.Groups["reason"].Value.Trim().TrimEnd('*', '_', '`').Trim();
            if (reason.Length == 0) reason = string.Join(" ", lines[..i].Select(l => l.Trim()).Where(l => l.Length > 0));
            return new AiValidation(runId, agent, AiVerdict.Disagree, Texts.Truncate(reason.Length == 0 ? "no reason given" : reason, 500));
        }

        return new AiValidation(runId, agent, AiVerdict.NoVerdict, "the answer states no VERDICT line");
    }

    [GeneratedRegex(@"^[\s*_`#>-]*verdict[\s*_`]*:[\s*_`]*(?<verdict>agree|disagree)\b[\s*_`:.,;\u2013\u2014-]*(?<reason>.*)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex VerdictLine();

    [LoggerMessage(1150, LogLevel.Warning, "Incident {IncidentId}: the AI validation by {Agent} failed; the risk gate decides without it")]
    private partial void LogValidationFailed(Exception ex, string incidentId, string agent);
}
