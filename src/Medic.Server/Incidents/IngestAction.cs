using System.Text.Json.Serialization;

namespace Medic.Server.Incidents;

/// <summary>What ingesting one signal did to the incident record (<see cref="IngestOutcome.Action"/>); the text is what notifications and webhook answers count.</summary>
internal enum IngestAction
{
    /// <summary>A new incident.</summary>
    [JsonStringEnumMemberName("created")] Created,

    /// <summary>A repeat or another occurrence of an open incident.</summary>
    [JsonStringEnumMemberName("updated")] Updated,

    /// <summary>A recently resolved incident opened again.</summary>
    [JsonStringEnumMemberName("reopened")] Reopened,

    /// <summary>The source says the problem is over.</summary>
    [JsonStringEnumMemberName("resolved")] Resolved,

    /// <summary>The source says resolved while a remediation runs: recorded, not resolved (verification decides).</summary>
    [JsonStringEnumMemberName("noted")] Noted,

    /// <summary>A resolve for nothing open.</summary>
    [JsonStringEnumMemberName("ignored")] Ignored,

    /// <summary>A redelivery already folded.</summary>
    [JsonStringEnumMemberName("duplicate")] Duplicate,
}
