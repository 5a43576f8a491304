using System.Diagnostics;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Ai.Runs;
using Medic.Server.Ai.Tools;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Fleet;
using Medic.Server.Pipeline;
using Medic.Server.Secrets;
using ModelContextProtocol.Protocol;

namespace Medic.Server.Ai.Mcp;

/// <summary>
/// What an MCP client may call, and the calls themselves. A token's tools are the curated AI tools
/// its role allows: every reading tool, and the acting ones (<see cref="AiTool.Acts"/>) only for roles
/// that may operate. A call is checked like the run loop checks a model's (<c>tool.not_found</c>,
/// <c>tool.input_invalid</c>, a timeout per tool), runs with no incident in context (any server of
/// the token's tenant; acting tools name their incident) at <see cref="Trust.Supervised"/>, so a
/// proposal always waits for a person. Every call is audited and lands in the session's bundle.
/// </summary>
internal sealed partial class McpToolHost(AiToolbox toolbox, McpSessions sessions, AuditLog audit, NodeStore nodes, SecretRedactor secrets, TimeProvider time, ILogger<McpToolHost> log)
{
    public const string AuditAction = "mcp.tool_call";

    public IReadOnlyList<AiTool> ToolsFor(Caller caller) =>
        [.. toolbox.All.Where(t => !t.Acts || Permissions.Allows(caller.Role, caller.Superadmin, Permission.Operate))];

    public ListToolsResult List(Caller caller) => new()
    {
        Tools = [.. ToolsFor(caller).Select(Describe)],
        CacheScope = CacheScope.Private,
    };

    public async Task<CallToolResult> CallAsync(Caller caller, string name, IDictionary<string, JsonElement>? raw, string? clientAddress, CancellationToken ct)
    {
        var tools = ToolsFor(caller);
        var names = tools.Select(t => t.Name).ToList();
        var session = sessions.Open(caller, names);
        var redaction = await secrets.ForTenantAsync(caller.TenantId, ct);
        var context = new AiToolContext { TenantId = caller.TenantId, RunId = session.RunId, Actor = "mcp:" + caller.Username, Trust = Trust.Supervised, Redact = redaction.Apply };
        var at = time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        var (result, arguments) = await InvokeAsync(tools, context, name, raw, ct);
        var content = context.Redact(result.Content);
        watch.Stop();

        var target = await TargetAsync(caller.TenantId, arguments, ct);
        var details = new Dictionary<string, string>
        {
            ["tool"] = Texts.Truncate(name, 100),
            ["outcome"] = result.ErrorCode ?? "ok",
            ["argument_keys"] = string.Join(",", (raw?.Keys ?? []).Order(StringComparer.Ordinal).Select(k => Texts.Truncate(k, 60)).Take(20)),
            ["token"] = caller.TokenId ?? "",
            ["ai_run"] = session.RunId,
        };
        var proposal = result.ErrorCode is null && name == "propose_remediation" ? Field(content, "remediation") : null;
        if (proposal is not null) details["remediation"] = proposal;
        await audit.AppendAsync(new AuditRecord(caller.TenantId, caller.Actor, AuditAction, target, Outcome(result.ErrorCode), clientAddress, details), CancellationToken.None);

        await sessions.RecordAsync(session, caller, names, new AiRunStep
        {
            Kind = "tool", At = at, Ms = watch.ElapsedMilliseconds, Tool = Texts.Truncate(name, 100),
            Arguments = context.Redact(JsonSerializer.Serialize(raw ?? new Dictionary<string, JsonElement>(), ToolJson.Options)),
            Result = content, Error = result.ErrorCode,
        }, proposal, escalated: result.ErrorCode is null && name == "escalate");

        return new CallToolResult { Content = [new TextContentBlock { Text = content }], IsError = result.Failed };
    }

    private async Task<(ToolResult Result, ToolArguments? Arguments)> InvokeAsync(IReadOnlyList<AiTool> tools, AiToolContext context, string name, IDictionary<string, JsonElement>? raw, CancellationToken ct)
    {
        var tool = tools.FirstOrDefault(t => t.Name == name);
        if (tool is null)
        {
            return (ToolResult.Error(ToolErrors.NotFound, $"there is no tool '{Texts.Truncate(name, 100)}' for this token; its tools are: {string.Join(", ", tools.Select(t => t.Name))}"), null);
        }

        var (arguments, problem) = ToolArguments.Bind(tool.Parameters, raw?.ToDictionary(kv => kv.Key, kv => (object?)kv.Value, StringComparer.Ordinal));
        if (arguments is null) return (ToolResult.Error(ToolErrors.InputInvalid, problem!), null);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(tool.Timeout);
        try
        {
            return (await tool.InvokeAsync(context, arguments, limit.Token), arguments);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return (ToolResult.Error(ToolErrors.Timeout, $"'{tool.Name}' did not answer within {tool.Timeout.TotalSeconds:0} s"), arguments);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ToolFailed(ex, tool.Name, context.RunId);
            return (ToolResult.Error(ToolErrors.Internal, $"'{tool.Name}' failed inside Medic ({ex.GetType().Name}); try another tool"), arguments);
        }
    }

    /// <summary>The incident or server the call named, as the audit log names them; the tenant for a call that named neither (or did not bind).</summary>
    private async Task<string> TargetAsync(string tenantId, ToolArguments? arguments, CancellationToken ct)
    {
        if (arguments?.Text("incident") is { Length: > 0 } incident) return "incident:" + incident;
        if (arguments?.Text("server") is { Length: > 0 } server)
        {
            return "server:" + ((await nodes.FindAsync(tenantId, server, ct))?.Id ?? server);
        }

        return "mcp";
    }

    private static string Outcome(string? error) => error switch
    {
        null => AuditOutcomes.Success,
        ToolErrors.PolicyDenied => AuditOutcomes.Denied,
        ToolErrors.NotFound or ToolErrors.InputInvalid => AuditOutcomes.Rejected,
        _ => AuditOutcomes.Failed,
    };

    private static Tool Describe(AiTool tool) => new()
    {
        Name = tool.Name,
        Description = tool.Description,
        InputSchema = ToolArguments.Schema(tool.Parameters),
        Annotations = new ToolAnnotations { ReadOnlyHint = !tool.Acts, DestructiveHint = false, OpenWorldHint = false },
    };

    private static string? Field(string json, string name)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(1141, LogLevel.Error, "MCP session {RunId}: the tool {Tool} failed inside Medic")]
    private partial void ToolFailed(Exception ex, string tool, string runId);
}
