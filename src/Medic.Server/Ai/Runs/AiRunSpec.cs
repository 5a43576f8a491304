using Medic.Contracts;
using Medic.Server.Fleet;
using Medic.Server.Pipeline;
using Microsoft.Extensions.AI;

namespace Medic.Server.Ai.Runs;

/// <summary>What one AI run is for and within what bounds; <see cref="AiRunner"/> resolves the model, skills and secrets.</summary>
internal sealed record AiRunSpec
{
    public required string TenantId { get; init; }

    /// <summary><c>triage</c>, <c>diagnose</c>, <c>validate</c>, <c>review</c>, <c>report</c>, <c>ask</c>, <c>patrol</c>, <c>eval</c>.</summary>
    public required string Purpose { get; init; }

    /// <summary>Who the timeline and audit name: <c>ai:AGENT</c>, or the person asking.</summary>
    public required string Actor { get; init; }

    public required Trust Trust { get; init; }

    public required string Input { get; init; }

    public string? Agent { get; init; }

    public string? AgentPrompt { get; init; }

    /// <summary>The skills to load; none given: those matching the input's words are suggested.</summary>
    public IReadOnlyList<string> Skills { get; init; } = [];

    /// <summary>The tools allowed (empty: every tool); never more than the toolbox has.</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];

    /// <summary>Only tools that read (a viewer asking).</summary>
    public bool ReadOnly { get; init; }

    /// <summary>A model entry name; null: the tenant's default.</summary>
    public string? Model { get; init; }

    public IncidentResponse? Incident { get; init; }

    public NodeRow? Server { get; init; }

    public int? Round { get; init; }

    public IReadOnlyList<ChatMessage> History { get; init; } = [];

    public AiRunLimits Limits { get; init; } = new();

    /// <summary>Tools for this run only, on top of the allowed ones (a patrol's report_finding).</summary>
    public IReadOnlyList<Tools.AiTool> ExtraTools { get; init; } = [];
}

/// <summary>A finished run: its bundle as kept and its summary row.</summary>
internal sealed record AiRunResult(AiRunBundle Bundle, AiRunSummary Summary, Func<string, string> Redact);
