using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary>Where an incident stands (DESIGN §6).</summary>
[JsonConverter(typeof(StateJsonConverter<IncidentStatus>))]
public enum IncidentStatus
{
    [JsonStringEnumMemberName("open")] Open,
    [JsonStringEnumMemberName("triaging")] Triaging,
    [JsonStringEnumMemberName("diagnosing")] Diagnosing,
    [JsonStringEnumMemberName("recipe_proposed")] RecipeProposed,
    [JsonStringEnumMemberName("awaiting_approval")] AwaitingApproval,
    [JsonStringEnumMemberName("executing")] Executing,
    [JsonStringEnumMemberName("verifying")] Verifying,
    [JsonStringEnumMemberName("resolved")] Resolved,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("escalated")] Escalated,
}
