using Medic.Contracts;
using Medic.Server.Incidents;
using Medic.Server.Storage;

namespace Medic.Server.Ai.Tools;

/// <summary>Hands the incident to a person with the reason: the model's way to say "this needs a human".</summary>
internal sealed class EscalateTool(IncidentScope scope, PipelineIncidents incidents, Database db) : AiTool
{
    public override string Name => "escalate";

    public override string Description => "Hand the incident to a person (the on-call route is notified), with what you found and why you stop. Use it when no recipe fits or the evidence is unclear.";

    /// <summary>The tool's parameters, also what the evaluation harness binds its recorded calls with.</summary>
    public static readonly IReadOnlyList<ToolParameter> Schema =
    [
        new("reason", ToolParameterType.String, "What you found and why a person should take it.", Required: true, MaxLength: 4000),
        IncidentScope.Parameter,
    ];

    public override IReadOnlyList<ToolParameter> Parameters => Schema;

    public override bool Acts => true;

    public override async Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct)
    {
        var (incident, refusal) = await scope.ResolveAsync(context, arguments.Text("incident"), ct);
        if (incident is null) return refusal!;
        var reason = context.Redact(arguments.Text("reason")!);
        var (moved, refused) = await db.WriteAsync(async (c, tx) =>
        {
            var (after, why) = await incidents.TransitionAsync(c, tx, context.TenantId, incident.Id, IncidentTrigger.Escalate, context.Actor, "escalated: " + reason,
                new Dictionary<string, string> { ["ai_run"] = context.RunId });
            return (why is null ? after : null, why);
        }, ct);
        if (moved is not null)
        {
            incidents.Publish(context.TenantId, "updated", moved);
            return ToolResult.Ok(ToolJson.Write(new { incident = incident.Id, status = moved.Status.ToText(), note = "a person has it now" }));
        }

        return refused == "no such incident"
            ? ToolResult.Error(ToolErrors.InputInvalid, $"no incident '{incident.Id}'")
            : ToolResult.Ok(ToolJson.Write(new { incident = incident.Id, status = incident.Status.ToText(), note = $"not moved ({refused}); it is already with a person or finished" }));
    }
}
