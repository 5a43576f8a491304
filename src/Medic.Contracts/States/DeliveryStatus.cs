using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary>One notification to one channel: queued, failed and due again, sent, out of attempts, or held back by flap damping.</summary>
[JsonConverter(typeof(StateJsonConverter<DeliveryStatus>))]
public enum DeliveryStatus
{
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("retrying")] Retrying,
    [JsonStringEnumMemberName("sent")] Sent,
    [JsonStringEnumMemberName("dead")] Dead,
    [JsonStringEnumMemberName("damped")] Damped,
}
