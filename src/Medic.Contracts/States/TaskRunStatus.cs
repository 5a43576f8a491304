using System.Text.Json.Serialization;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Contracts;

/// <summary>
/// How a task on one server ended, as the control plane answers it: the agent's own
/// <see cref="TaskStatus"/>, or <see cref="Offline"/> when the server could not be reached (no
/// agent link, or ssh could not connect).
/// </summary>
[JsonConverter(typeof(StateJsonConverter<TaskRunStatus>))]
public enum TaskRunStatus
{
    [JsonStringEnumMemberName("completed")] Completed,
    [JsonStringEnumMemberName("timeout")] Timeout,
    [JsonStringEnumMemberName("refused")] Refused,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("offline")] Offline,
}

public static class TaskRunStatuses
{
    /// <summary>The agent's result as the control plane's answer: the same state, with no text in between.</summary>
    public static TaskRunStatus ToRunStatus(this TaskStatus status) => status switch
    {
        TaskStatus.Completed => TaskRunStatus.Completed,
        TaskStatus.Timeout => TaskRunStatus.Timeout,
        TaskStatus.Refused => TaskRunStatus.Refused,
        TaskStatus.Failed => TaskRunStatus.Failed,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a task status"),
    };
}
