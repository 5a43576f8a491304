using Medic.Contracts;
using Medic.Server.Fleet;
using Medic.Server.Pipeline;

namespace Medic.Server.Ai.Tools;

/// <summary>
/// Who is calling and within what scope: the tenant, the run, the AI agent (or API token, over MCP)
/// and its trust, and, for an incident, the incident and its server: the only server its tools may
/// touch. Without an incident (<c>medic ask</c>, MCP) the scope is the tenant's servers.
/// </summary>
internal sealed class AiToolContext
{
    public required string TenantId { get; init; }

    /// <summary>The AI run (or MCP session) the calls belong to, for the timeline and the bundle.</summary>
    public required string RunId { get; init; }

    /// <summary>Who the timeline and the audit log name: <c>ai:AGENT</c>, or <c>mcp:TOKEN</c>.</summary>
    public required string Actor { get; init; }

    public required Trust Trust { get; init; }

    public IncidentResponse? Incident { get; init; }

    /// <summary>The incident's round when the run started: a proposal for a round that moved on is refused.</summary>
    public int? Round { get; init; }

    /// <summary>The incident's server, when it has one.</summary>
    public NodeRow? Server { get; init; }

    /// <summary>Applied to everything a tool returns before the model reads it (the tenant's secret values).</summary>
    public Func<string, string> Redact { get; init; } = static s => s;
}
