using System.Text.Json.Serialization;

namespace Medic.Contracts;

[JsonConverter(typeof(StateJsonConverter<RunbookRunStatus>))]
public enum RunbookRunStatus
{
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    [JsonStringEnumMemberName("failed")] Failed,

    /// <summary>The control plane stopped while the run was going; it is never resumed on its own.</summary>
    [JsonStringEnumMemberName("interrupted")] Interrupted,

    /// <summary>A dry run's answer: nothing ran and nothing is stored.</summary>
    [JsonStringEnumMemberName("dry_run")] DryRun,
}
