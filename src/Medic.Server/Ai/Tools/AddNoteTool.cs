using Medic.Server.Incidents;
using Medic.Server.Storage;

namespace Medic.Server.Ai.Tools;

/// <summary>Writes a note on the incident's timeline, for the people who read it next.</summary>
internal sealed class AddNoteTool(IncidentScope scope, PipelineIncidents incidents, Database db) : AiTool
{
    public override string Name => "add_note";

    public override string Description => "Add a note to the incident's timeline: a finding, a hypothesis you ruled out, what a person should check.";

    public override IReadOnlyList<ToolParameter> Parameters { get; } =
    [
        new("text", ToolParameterType.String, "The note.", Required: true, MaxLength: 4000),
        IncidentScope.Parameter,
    ];

    public override bool Acts => true;

    public override async Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct)
    {
        var (incident, refusal) = await scope.ResolveAsync(context, arguments.Text("incident"), ct);
        if (incident is null) return refusal!;
        var text = context.Redact(arguments.Text("text")!);
        await db.WriteAsync((c, tx) => incidents.NoteAsync(c, tx, context.TenantId, incident.Id, "ai_note", context.Actor, text, new Dictionary<string, string> { ["ai_run"] = context.RunId }), ct);
        return ToolResult.Ok(ToolJson.Write(new { incident = incident.Id, noted = true }));
    }
}
