using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary>Where a request for a person's approval stands.</summary>
[JsonConverter(typeof(StateJsonConverter<ApprovalStatus>))]
public enum ApprovalStatus
{
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("approved")] Approved,
    [JsonStringEnumMemberName("rejected")] Rejected,
    [JsonStringEnumMemberName("expired")] Expired,

    /// <summary>The incident ended (or moved on) before anybody decided.</summary>
    [JsonStringEnumMemberName("cancelled")] Cancelled,
}
