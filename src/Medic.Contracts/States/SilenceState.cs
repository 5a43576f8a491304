using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary>A silence's state at a moment: it starts later, it is in force, or it has ended.</summary>
[JsonConverter(typeof(StateJsonConverter<SilenceState>))]
public enum SilenceState
{
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("active")] Active,
    [JsonStringEnumMemberName("expired")] Expired,
}
