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

    /// <summary>A different recipe or different parameters were proposed for the incident while it waited: the newer request replaces it.</summary>
    [JsonStringEnumMemberName("superseded")] Superseded,
}
