using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary>What became of one webhook delivery: accepted, or the reason it was refused.</summary>
[JsonConverter(typeof(StateJsonConverter<WebhookOutcome>))]
public enum WebhookOutcome
{
    [JsonStringEnumMemberName("accepted")] Accepted,
    [JsonStringEnumMemberName("no_credentials")] NoCredentials,
    [JsonStringEnumMemberName("unknown_scheme")] UnknownScheme,
    [JsonStringEnumMemberName("bad_signature")] BadSignature,
    [JsonStringEnumMemberName("stale_timestamp")] StaleTimestamp,
    [JsonStringEnumMemberName("wrong_token")] WrongToken,
    [JsonStringEnumMemberName("wrong_basic_auth")] WrongBasicAuth,
    [JsonStringEnumMemberName("not_configured")] NotConfigured,
    [JsonStringEnumMemberName("too_large")] TooLarge,
    [JsonStringEnumMemberName("malformed_payload")] MalformedPayload,
    [JsonStringEnumMemberName("rate_limited")] RateLimited,
}
