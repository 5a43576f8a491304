using Medic.Contracts;
using Medic.Server.Incidents;

namespace Medic.Server.Ai.Tools;

/// <summary>Which incident an acting tool may act on: the run's own incident and no other; without one, an incident of the tenant the caller names.</summary>
internal sealed class IncidentScope(PipelineIncidents incidents)
{
    public static readonly ToolParameter Parameter = new("incident", ToolParameterType.String,
        "The incident's id. For a run about an incident it can only be that incident, which is the default.", MaxLength: 100);

    public async Task<(IncidentResponse? Incident, ToolResult? Refusal)> ResolveAsync(AiToolContext context, string? named, CancellationToken ct)
    {
        if (context.Incident is { } own)
        {
            if (named is { Length: > 0 } && named != own.Id)
            {
                return (null, ToolResult.Error(ToolErrors.PolicyDenied, $"'{named}' is outside this run's scope: only incident {own.Id} can be acted on"));
            }

            return ((await incidents.GetAsync(context.TenantId, own.Id, ct))?.Incident ?? own, null);
        }

        if (named is not { Length: > 0 }) return (null, ToolResult.Error(ToolErrors.InputInvalid, "name the incident (the argument 'incident')"));
        return await incidents.GetAsync(context.TenantId, named, ct) is { } found
            ? (found.Incident, null)
            : (null, ToolResult.Error(ToolErrors.InputInvalid, $"no incident '{named}' in this tenant"));
    }
}
