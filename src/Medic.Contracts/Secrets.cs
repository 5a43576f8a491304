using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary><c>PUT /api/v1/secrets/{name}</c>: the value to store (write-only) and what it is for.</summary>
public sealed record SetSecretRequest(string? Value, string? Description = null);

/// <summary>
/// A named secret as the API shows it: its metadata only. The value, or anything derived from it
/// but its length, is never returned.
/// </summary>
public sealed record SecretResponse(
    string Name,
    string Description,
    int Length,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    string UpdatedBy,
    DateTimeOffset UpdatedAt);

// Its own context, with MedicJson's options: the source generator cannot split one context across
// partial declarations (dotnet/runtime#99669, CS8785 "hintName must be unique"). The server falls
// back to these types through its options' resolver chain.
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(SetSecretRequest))]
[JsonSerializable(typeof(SecretResponse))]
[JsonSerializable(typeof(IReadOnlyList<SecretResponse>))]
public sealed partial class SecretsJson : JsonSerializerContext;
