using System.Text.Json;
using Medic.Server.Fleet;

namespace Medic.Server.Ai.Tools;

/// <summary>A server's facts (OS, kernel, CPUs, memory, services) and latest metrics, as the agent last reported them.</summary>
internal sealed class ServerFactsTool(ServerScope scope) : AiTool
{
    public override string Name => "server_facts";

    public override string Description => "The server's facts (OS, kernel, CPUs, memory, tags, status) and its latest metrics (load, memory, disks).";

    public override IReadOnlyList<ToolParameter> Parameters { get; } = [ServerScope.Parameter];

    public override async Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct)
    {
        var (server, refusal) = await scope.ResolveAsync(context, arguments.Text("server"), ct);
        if (server is null) return refusal!;
        return ToolResult.Ok(context.Redact(ToolJson.Write(new
        {
            name = server.Name,
            status = server.Status,
            kind = server.Kind,
            tags = server.TagMap,
            last_seen = server.LastSeenAt,
            facts = Parse(server.Facts),
            metrics = Parse(server.Metrics),
        })));
    }

    private static JsonElement? Parse(string? json) => json is { Length: > 0 } ? JsonDocument.Parse(json).RootElement.Clone() : null;
}
