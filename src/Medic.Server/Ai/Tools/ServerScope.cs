using Medic.Server.Fleet;

namespace Medic.Server.Ai.Tools;

/// <summary>
/// Which server a tool call may touch. For an incident: its own server and no other (a model that
/// names another one, or another tenant's, is refused). Without an incident: any server of the tenant.
/// </summary>
internal sealed class ServerScope(NodeStore nodes)
{
    public static readonly ToolParameter Parameter = new("server", ToolParameterType.String,
        "The server's name or id. For an incident it can only be the incident's own server, which is the default.", MaxLength: 200);

    public async Task<(NodeRow? Server, ToolResult? Refusal)> ResolveAsync(AiToolContext context, string? named, CancellationToken ct)
    {
        if (context.Incident is not null)
        {
            if (context.Server is not { } own)
            {
                return (null, ToolResult.Error(ToolErrors.PolicyDenied, "this incident names no server; its tools cannot reach any"));
            }

            if (named is { Length: > 0 } && !string.Equals(named, own.Name, StringComparison.Ordinal) && !string.Equals(named, own.Id, StringComparison.Ordinal))
            {
                return (null, ToolResult.Error(ToolErrors.PolicyDenied, $"'{named}' is outside this incident's scope: only its server '{own.Name}' can be examined"));
            }

            return (own, null);
        }

        if (named is not { Length: > 0 })
        {
            return (null, ToolResult.Error(ToolErrors.InputInvalid, "name the server (the argument 'server')"));
        }

        var server = await nodes.FindAsync(context.TenantId, named, ct);
        return server is null
            ? (null, ToolResult.Error(ToolErrors.InputInvalid, $"no server '{named}' in this tenant; list_servers names them"))
            : (server, null);
    }
}
