using System.Text.Json.Serialization;

namespace Medic.Contracts;

[JsonConverter(typeof(StateJsonConverter<RunbookStepStatus>))]
public enum RunbookStepStatus
{
    [JsonStringEnumMemberName("ok")] Ok,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("skipped")] Skipped,
    [JsonStringEnumMemberName("timeout")] Timeout,
    [JsonStringEnumMemberName("refused")] Refused,
    [JsonStringEnumMemberName("offline")] Offline,
}
