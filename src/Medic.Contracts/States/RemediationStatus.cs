using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary>How one remediation went, from the risk gate's decision to its verification.</summary>
[JsonConverter(typeof(StateJsonConverter<RemediationStatus>))]
public enum RemediationStatus
{
    [JsonStringEnumMemberName("awaiting_approval")] AwaitingApproval,
    [JsonStringEnumMemberName("rejected")] Rejected,
    [JsonStringEnumMemberName("expired")] Expired,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
    [JsonStringEnumMemberName("executing")] Executing,
    [JsonStringEnumMemberName("verifying")] Verifying,
    [JsonStringEnumMemberName("succeeded")] Succeeded,

    /// <summary>Ran; nothing can re-check the incident's problem (a manual incident), so a person confirms it is over.</summary>
    [JsonStringEnumMemberName("awaiting_confirmation")] AwaitingConfirmation,

    /// <summary>Ran and did not fix it (a step failed, or verification did not pass): counts toward the circuit breaker.</summary>
    [JsonStringEnumMemberName("failed")] Failed,

    /// <summary>
    /// Could not reach the server: its agent stayed offline past the grace period, or the link broke
    /// during the run. Escalated like a failure, but says nothing about the recipe: it does not count toward the circuit breaker.
    /// </summary>
    [JsonStringEnumMemberName("unreachable")] Unreachable,

    /// <summary>The gate sent it to a person without running it (circuit breaker open).</summary>
    [JsonStringEnumMemberName("escalated")] Escalated,
}
