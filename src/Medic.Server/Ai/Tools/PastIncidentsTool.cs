using Medic.Contracts;
using Medic.Server.Incidents;

namespace Medic.Server.Ai.Tools;

/// <summary>Earlier incidents on the server, and incidents of the same type elsewhere in the tenant, with how they ended.</summary>
internal sealed class PastIncidentsTool(ServerScope scope, IncidentQueries queries) : AiTool
{
    public override string Name => "past_incidents";

    public override string Description => "Earlier incidents on the server, and recent incidents of the same type on other servers of the tenant: type, title, status, when, and how each was resolved.";

    public override IReadOnlyList<ToolParameter> Parameters { get; } =
    [
        ServerScope.Parameter,
        new("type", ToolParameterType.String, "The incident type to look for elsewhere (default: this incident's type).", MaxLength: 100),
        new("limit", ToolParameterType.Integer, "How many of each (default 10).", Min: 1, Max: 50),
    ];

    public override async Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct)
    {
        var (server, refusal) = await scope.ResolveAsync(context, arguments.Text("server"), ct);
        if (server is null) return refusal!;
        var limit = arguments.Integer("limit") ?? 10;
        var type = arguments.Text("type") ?? context.Incident?.Type;
        var onServer = (await queries.ListAsync(context.TenantId, new IncidentQuery(Server: server.Id, Limit: limit + 1), ct)).Items
            .Where(i => i.Id != context.Incident?.Id).Take(limit);
        var similar = type is null ? [] : (await queries.ListAsync(context.TenantId, new IncidentQuery(Limit: 200), ct)).Items
            .Where(i => i.Type == type && i.Id != context.Incident?.Id && i.ServerId != server.Id).Take(limit);
        return ToolResult.Ok(context.Redact(ToolJson.Write(new
        {
            on_server = onServer.Select(Summary),
            same_type_elsewhere = similar.Select(Summary),
        })));
    }

    private static object Summary(IncidentResponse i) => new
    {
        id = i.Id,
        type = i.Type,
        severity = i.Severity,
        title = i.Title,
        status = i.Status.ToText(),
        server = i.Server,
        first_seen = i.FirstSeenAt,
        resolved_at = i.ResolvedAt,
        resolution = i.Resolution,
        occurrences = i.Occurrences,
    };
}
