using System.Security.Cryptography;
using System.Text;
using Medic.Contracts;
using Medic.Server.Ai.Tools;
using Medic.Server.Incidents;

namespace Medic.Server.Ai.Patrols;

/// <summary>
/// A patrol's one acting tool: opens (or adds to) a <c>patrol_finding</c> incident on a server of the
/// tenant. At most <see cref="MaxPerRun"/> per run (one instance per patrol run counts them); the
/// same finding again folds into the open incident.
/// </summary>
internal sealed class ReportFindingTool(ServerScope scope, IIncidentIngest ingest, TimeProvider time) : AiTool
{
    private int _reported;

    public const string ToolName = "report_finding";
    public const string IncidentType = "patrol_finding";
    public const int MaxPerRun = 3;

    public override string Name => ToolName;

    public override string Description => $"Open a patrol finding (an incident of type {IncidentType}) for something that will become a problem: a trend, a drift, a repeated failure. At most {MaxPerRun} per patrol; do not report what is already an open incident.";

    public override IReadOnlyList<ToolParameter> Parameters { get; } =
    [
        new("server", ToolParameterType.String, "The server it is about.", Required: true, MaxLength: 200),
        new("title", ToolParameterType.String, "One line: what will go wrong.", Required: true, MaxLength: 200),
        new("summary", ToolParameterType.String, "The evidence and what a person should do.", Required: true, MaxLength: 4000),
        new("severity", ToolParameterType.String, "How urgent.", Values: ["info", "warning", "critical"]),
    ];

    public override bool Acts => true;

    public override async Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct)
    {
        if (_reported >= MaxPerRun) return ToolResult.Error(ToolErrors.PolicyDenied, $"a patrol reports at most {MaxPerRun} findings; summarise the rest in your answer");
        var (server, refusal) = await scope.ResolveAsync(context, arguments.Text("server"), ct);
        if (server is null) return refusal!;
        var title = context.Redact(arguments.Text("title")!);
        var fingerprint = "patrol:" + server.Id + ":" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(title.ToLowerInvariant())))[..16];
        var signal = new IncidentSignal(context.TenantId, IncidentSources.Patrol, fingerprint, IncidentType, arguments.Text("severity") ?? "warning", title,
            context.Redact(arguments.Text("summary")!), server.Id, null, new Dictionary<string, string> { ["patrol"] = context.Actor }, null, false, time.GetUtcNow(), context.Actor,
            Note: "reported by " + context.Actor + " (AI run " + context.RunId + ")");
        var outcome = (await ingest.IngestAsync([signal], ct)).Single();
        _reported++;
        return ToolResult.Ok(ToolJson.Write(new { incident = outcome.IncidentId, action = outcome.Action.ToText() }));
    }
}
