using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Gateway;

namespace Medic.Server.Ai.Tools;

/// <summary>
/// Runs one read-only diagnostic verb on a server through its agent, which checks the arguments
/// and its own policy again: the model gets the output, or <c>policy.denied</c> when the agent refuses.
/// </summary>
internal sealed class DiagTool(ServerScope scope, TaskDispatcher dispatcher) : AiTool
{
    public const int OutputLimit = 8000;

    public override string Name => "diag";

    public override string Description =>
        "Run a read-only diagnostic verb on the server and read its output. Verbs: "
        + string.Join("; ", DiagnosticCatalog.Verbs.Select(v => $"{v.Name}: {v.Description} Arguments: {v.Arguments}."));

    /// <summary>The tool's parameters, also what the evaluation harness binds its recorded calls with.</summary>
    public static readonly IReadOnlyList<ToolParameter> Schema =
    [
        new("verb", ToolParameterType.String, "The diagnostic verb.", Required: true, Values: DiagnosticCatalog.Names),
        new("args", ToolParameterType.Object, "The verb's arguments as strings, e.g. {\"unit\": \"nginx.service\"}.", MaxLength: 10),
        ServerScope.Parameter,
    ];

    public override IReadOnlyList<ToolParameter> Parameters => Schema;

    public override TimeSpan Timeout => TimeSpan.FromSeconds(40);

    public override async Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct)
    {
        var (server, refusal) = await scope.ResolveAsync(context, arguments.Text("server"), ct);
        if (server is null) return refusal!;
        var verb = arguments.Text("verb")!;
        var result = await dispatcher.RunAsync(server, TaskKind.Diag, [], verb, arguments.Map("args"), 20, null, ct);
        var output = context.Redact(Texts.Truncate(string.Join("\n", new[] { result.Stdout.TrimEnd(), result.Stderr.TrimEnd() }.Where(t => t.Length > 0)), OutputLimit));
        var reason = context.Redact(result.Reason ?? "");
        return result.Status switch
        {
            TaskRunStatus.Completed => ToolResult.Ok(ToolJson.Write(new { server = server.Name, verb, exit_code = result.ExitCode, output })),
            TaskRunStatus.Refused => ToolResult.Error(ToolErrors.PolicyDenied, $"the agent on {server.Name} refused '{verb}': {reason}"),
            TaskRunStatus.Timeout => ToolResult.Error(ToolErrors.Timeout, $"'{verb}' did not finish on {server.Name}: {reason}"),
            TaskRunStatus.Failed when result.ExitCode is null => ToolResult.Error(ToolErrors.InputInvalid, $"'{verb}' on {server.Name}: {reason}"),
            TaskRunStatus.Offline => ToolResult.Error(ToolErrors.Internal, $"{server.Name} cannot be reached: {reason}"),
            _ => ToolResult.Ok(ToolJson.Write(new { server = server.Name, verb, status = result.Status.ToText(), exit_code = result.ExitCode, reason, output })),
        };
    }
}
