using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary>
/// How far an AI agent's proposals are trusted: <c>autonomous</c> ones face the risk gate like any
/// proposal, <c>supervised</c> ones always wait for a person, <c>manual</c> agents never propose.
/// </summary>
[JsonConverter(typeof(StateJsonConverter<AiTrust>))]
public enum AiTrust
{
    [JsonStringEnumMemberName("autonomous")] Autonomous,
    [JsonStringEnumMemberName("supervised")] Supervised,
    [JsonStringEnumMemberName("manual")] Manual,
}

/// <summary>A pipeline stage an AI agent may perform instead of the rules engine; one enabled agent per tenant holds each.</summary>
[JsonConverter(typeof(StateJsonConverter<AiRole>))]
public enum AiRole
{
    [JsonStringEnumMemberName("triage")] Triage,
    [JsonStringEnumMemberName("diagnose")] Diagnose,
    [JsonStringEnumMemberName("validate")] Validate,
    [JsonStringEnumMemberName("review")] Review,
    [JsonStringEnumMemberName("report")] Report,
}

/// <summary>
/// Creates or replaces an AI agent. Trust defaults to <c>supervised</c>; empty <c>tools</c> means the
/// default read-only set; <c>model</c> names an AI model entry (none: the tenant's default);
/// <c>patrol</c> is a duration of at least 5m (none: no patrols).
/// </summary>
public sealed record AiAgentRequest(
    AiTrust? Trust = null,
    IReadOnlyList<AiRole>? Roles = null,
    string? SystemPrompt = null,
    IReadOnlyList<string>? Skills = null,
    IReadOnlyList<string>? Tools = null,
    string? Model = null,
    string? Patrol = null,
    bool Enabled = true);

/// <summary>
/// An AI agent. <c>Tools</c> is what was configured; <c>EffectiveTools</c> what it may call (the
/// default set when none were named, without <c>propose_remediation</c> for a manual agent).
/// <c>Warnings</c> (on a save) name tools that are neither built in nor known yet.
/// </summary>
public sealed record AiAgentResponse(
    string Name,
    AiTrust Trust,
    IReadOnlyList<AiRole> Roles,
    string SystemPrompt,
    IReadOnlyList<string> Skills,
    IReadOnlyList<string> Tools,
    IReadOnlyList<string> EffectiveTools,
    string? Model,
    string? Patrol,
    bool Enabled,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    string UpdatedBy,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<string>? Warnings = null);

/// <summary>A skill: Markdown with a front-matter header (<c>name</c>, <c>description</c>, <c>when</c>).</summary>
public sealed record AiSkillRequest(string Markdown);

/// <summary>A skill as listed: built-in ones have <c>Builtin</c> true; a tenant skill with a built-in's name overrides it (<c>Overrides</c>).</summary>
public sealed record AiSkillSummary(
    string Name,
    string Description,
    string When,
    bool Builtin,
    bool Overrides,
    int Tokens,
    string? UpdatedBy = null,
    DateTimeOffset? UpdatedAt = null);

public sealed record AiSkillResponse(AiSkillSummary Skill, string Markdown);

/// <summary>
/// The JSON context of the AI agents and skills contracts, with <see cref="MedicJson"/>'s options. Its own
/// class because the source generator emits one file per type per declaration, so a second
/// <c>partial MedicJson</c> declaration with attributes fails to build.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(AiAgentRequest))]
[JsonSerializable(typeof(AiAgentResponse))]
[JsonSerializable(typeof(IReadOnlyList<AiAgentResponse>))]
[JsonSerializable(typeof(AiSkillRequest))]
[JsonSerializable(typeof(AiSkillSummary))]
[JsonSerializable(typeof(IReadOnlyList<AiSkillSummary>))]
[JsonSerializable(typeof(AiSkillResponse))]
public sealed partial class AiAgentsJson : JsonSerializerContext;
