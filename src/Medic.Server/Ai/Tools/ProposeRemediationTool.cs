using Medic.Server.Pipeline;

namespace Medic.Server.Ai.Tools;

/// <summary>
/// Proposes a recipe for the incident. The proposal goes through the same checks and the same risk
/// gate as a person's or a rule's (ProposalStep): the recipe must exist, its parameters fit the
/// schema, a process recipe is pinned to the one instance the evidence names, and the gate decides
/// whether it runs, waits for an approver or goes to a person. Nothing here can approve it.
/// </summary>
internal sealed class ProposeRemediationTool(IncidentScope scope, ProposalStep proposals) : AiTool
{
    public override string Name => "propose_remediation";

    public override string Description =>
        "Propose a recipe (from list_recipes) with its parameters to fix the incident, and say why. The risk gate then decides: it may run on its own (low risk, trusted), wait for a person's approval, or go to a person. You cannot approve it.";

    /// <summary>The tool's parameters, also what the evaluation harness binds its recorded calls with.</summary>
    public static readonly IReadOnlyList<ToolParameter> Schema =
    [
        new("recipe", ToolParameterType.String, "The recipe's name.", Required: true, MaxLength: 100),
        new("params", ToolParameterType.Object, "The recipe's parameters as strings (show_recipe lists them and their rules).", MaxLength: 30),
        new("rationale", ToolParameterType.String, "Why this recipe, from the evidence you gathered (one or two sentences).", Required: true, MaxLength: 2000),
        IncidentScope.Parameter,
        new("server", ToolParameterType.String, "The server it runs on: only the incident's own server (the default).", MaxLength: 200),
    ];

    public override IReadOnlyList<ToolParameter> Parameters => Schema;

    public override bool Acts => true;

    public override async Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct)
    {
        var (incident, refusal) = await scope.ResolveAsync(context, arguments.Text("incident"), ct);
        if (incident is null) return refusal!;
        if (arguments.Text("server") is { Length: > 0 } named)
        {
            var own = incident.ServerId is null ? null : new { incident.ServerId, incident.Server };
            if (own is null || (named != own.ServerId && named != own.Server))
            {
                return ToolResult.Error(ToolErrors.PolicyDenied, $"'{named}' is outside the incident's scope: a recipe runs only on the incident's server{(own is null ? "" : $" '{own.Server}'")}");
            }
        }

        var recipe = arguments.Text("recipe")!;
        var rationale = arguments.Text("rationale")!;
        try
        {
            var round = context.Incident is null ? null : context.Round;
            var outcome = await proposals.ProposeAsync(context.TenantId, incident.Id, round, context.Actor, context.Trust, recipe, null, arguments.Map("params"),
                $"{context.Actor} proposes {recipe}: {rationale}", clientAddress: null, ct);
            var remediation = outcome.Remediation;
            return ToolResult.Ok(ToolJson.Write(new
            {
                remediation = remediation.Id,
                recipe = remediation.Runbook,
                server = remediation.ServerName,
                gate = remediation.Gate,
                gate_reason = remediation.GateReason,
                status = remediation.Status,
                approval = outcome.ApprovalId,
                note = remediation.Gate switch
                {
                    "auto_run" => "the gate let it run; verification follows",
                    "needs_approval" => "it waits for a person's approval; you cannot approve it",
                    _ => "the gate sent it to a person",
                },
            }));
        }
        catch (ProposalException ex)
        {
            var code = ex.Status is StatusCodes.Status400BadRequest or StatusCodes.Status404NotFound ? ToolErrors.InputInvalid : ToolErrors.PolicyDenied;
            return ToolResult.Error(code, ex.Message + (ex.Errors is { Count: > 0 } errors ? " (" + string.Join("; ", errors.Select(e => e.Key + ": " + e.Value)) + ")" : ""));
        }
    }
}
