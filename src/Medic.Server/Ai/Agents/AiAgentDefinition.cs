using Medic.Contracts;
using Medic.Server.Common;

namespace Medic.Server.Ai.Agents;

/// <summary>
/// One of a tenant's AI agents as stored. <see cref="Roles"/> are the roles it claims; it performs
/// them only while enabled (a disabled agent holds none). <see cref="Patrol"/> null: no patrols.
/// </summary>
internal sealed record AiAgentDefinition(string Name, AiAgentDraft Draft, string CreatedBy, DateTimeOffset CreatedAt, string UpdatedBy, DateTimeOffset UpdatedAt)
{
    public AiTrust Trust => Draft.Trust;

    public IReadOnlyList<AiRole> Roles => Draft.Roles;

    public string SystemPrompt => Draft.SystemPrompt;

    public IReadOnlyList<string> Skills => Draft.Skills;

    public IReadOnlyList<string> Tools => Draft.Tools;

    public string? Model => Draft.Model;

    public TimeSpan? Patrol => Draft.Patrol;

    public bool Enabled => Draft.Enabled;

    /// <summary>What the run loop lets it call; see <see cref="AiToolNames.Effective"/>.</summary>
    public IReadOnlyList<string> EffectiveTools => AiToolNames.Effective(Trust, Tools);

    /// <summary>Whether its proposals must wait for a person whatever the gate says of their risk (supervised), or may not be made at all (manual).</summary>
    public bool MayPropose => EffectiveTools.Contains(AiToolNames.ProposeRemediation, StringComparer.Ordinal);

    public AiAgentResponse ToResponse(IReadOnlyList<string>? warnings = null) => new(
        Name, Trust, Roles, SystemPrompt, Skills, Tools, EffectiveTools, Model, Patrol is { } p ? Durations.Format(p) : null,
        Enabled, CreatedBy, CreatedAt, UpdatedBy, UpdatedAt, warnings is { Count: > 0 } ? warnings : null);
}

/// <summary>What a save asks for, validated by <see cref="AiAgentRules.Validate"/>.</summary>
internal sealed record AiAgentDraft(
    AiTrust Trust,
    IReadOnlyList<AiRole> Roles,
    string SystemPrompt,
    IReadOnlyList<string> Skills,
    IReadOnlyList<string> Tools,
    string? Model,
    TimeSpan? Patrol,
    bool Enabled);
