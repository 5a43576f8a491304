using System.Globalization;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Ai.Tools;
using Medic.Server.Gateway;

namespace Medic.Server.Ai.OperatorTools;

/// <summary>
/// An operator-defined tool in one run. The arguments were checked against the typed parameters
/// before this runs; a shell_command goes to the server's agent as an exec task (argv, no shell:
/// its policy must grant exec and allow the program), an http_request as its http-probe verb (a GET
/// from the server itself). The output is the tenant's redacted, truncated text.
/// </summary>
internal sealed partial class OperatorTool(OperatorToolDefinition definition, ServerScope scope, TaskDispatcher dispatcher, ILogger log) : AiTool
{
    /// <summary>How long past the tool's own timeout the loop waits for the agent to report it.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(20);

    private readonly IReadOnlyList<ToolParameter> _parameters = [.. definition.ToolParameters(), ServerScope.Parameter];

    public override string Name => definition.Name;

    public override string Description => definition.Template.Description + (definition.Kind == OperatorToolDefinition.ShellCommand
        ? $" (Operator-defined: runs {definition.Template.Program} on the server.)"
        : " (Operator-defined: an HTTP GET on the server itself.)");

    public override IReadOnlyList<ToolParameter> Parameters => _parameters;

    /// <summary>What an operator's command does is unknown to Medic: every call runs anew, and a read-only caller never gets it.</summary>
    public override bool Acts => true;

    public override TimeSpan Timeout => definition.Timeout + Grace;

    public override async Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct)
    {
        var (server, refusal) = await scope.ResolveAsync(context, arguments.Text("server"), ct);
        if (server is null) return refusal!;
        if (server.IsAgentless)
        {
            return ToolResult.Error(ToolErrors.PolicyDenied, $"{server.Name} is agentless (reached over ssh): operator tools run only through an agent and its policy");
        }

        var values = (definition.Template.Parameters ?? []).ToDictionary(p => p.Name, p => OperatorToolDefinition.Value(arguments, p), StringComparer.Ordinal);
        var seconds = (int)definition.Timeout.TotalSeconds;
        TaskRunResponse result;
        string what;
        string? url = null; // an http_request's, as sent: the model sees how its values were encoded
        if (definition.Kind == OperatorToolDefinition.ShellCommand)
        {
            IReadOnlyList<string> argv = [definition.Template.Program!, .. (definition.Template.Args ?? []).Select(a => ToolTemplate.Fill(a, p => values[p]))];
            what = definition.Template.Program!;
            result = await dispatcher.RunAsync(server, TaskKind.Exec, argv, null, null, seconds, null, ct);
        }
        else
        {
            var sent = ToolTemplate.Fill(definition.Template.Url!, p => Uri.EscapeDataString(values[p]));
            url = context.Redact(sent);
            what = "GET " + sent;
            var probe = new Dictionary<string, string> { ["url"] = sent, ["timeout"] = seconds.ToString(CultureInfo.InvariantCulture) };
            result = await dispatcher.RunAsync(server, TaskKind.Diag, [], "http-probe", probe, seconds, null, ct);
        }

        Ran(log, context.TenantId, Name, server.Name, context.Actor, result.Status.ToText());
        var output = context.Redact(Texts.Truncate(string.Join("\n", new[] { result.Stdout.TrimEnd(), result.Stderr.TrimEnd() }.Where(t => t.Length > 0)), definition.OutputLimit));
        var reason = context.Redact(result.Reason ?? "");
        return result.Status switch
        {
            TaskRunStatus.Completed => ToolResult.Ok(ToolJson.Write(new { server = server.Name, tool = Name, url, exit_code = result.ExitCode, output })),
            TaskRunStatus.Refused => ToolResult.Error(ToolErrors.PolicyDenied, $"the agent on {server.Name} refused '{Name}': {reason}"),
            TaskRunStatus.Timeout => ToolResult.Error(ToolErrors.Timeout, $"'{Name}' did not finish on {server.Name} within {seconds} s: {reason}"),
            TaskRunStatus.Offline => ToolResult.Error(ToolErrors.Internal, $"{server.Name} cannot be reached: {reason}"),
            TaskRunStatus.Failed when result.ExitCode is null => ToolResult.Error(ToolErrors.Internal, $"'{Name}' could not run {context.Redact(what)} on {server.Name}: {reason}"),
            _ => ToolResult.Ok(ToolJson.Write(new { server = server.Name, tool = Name, url, status = result.Status.ToText(), exit_code = result.ExitCode, reason, output })),
        };
    }

    [LoggerMessage(1160, LogLevel.Information, "Tenant {TenantId}: the operator AI tool {Tool} ran on {Server} for {Actor}: {Status}")]
    private static partial void Ran(ILogger logger, string tenantId, string tool, string server, string actor, string status);
}
