using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary>A scheduled check's verdict: not run yet, passing, or failing (its failure threshold reached).</summary>
[JsonConverter(typeof(StateJsonConverter<CheckState>))]
public enum CheckState
{
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("passing")] Passing,
    [JsonStringEnumMemberName("failing")] Failing,
}
