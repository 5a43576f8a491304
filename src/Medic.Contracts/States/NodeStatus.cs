using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary>Whether a server is reachable: its agent's link is up, or its last ssh contact worked.</summary>
[JsonConverter(typeof(StateJsonConverter<NodeStatus>))]
public enum NodeStatus
{
    [JsonStringEnumMemberName("online")] Online,
    [JsonStringEnumMemberName("offline")] Offline,
}
