using Medic.Contracts;

namespace Medic.Server.Ai.Providers;

internal enum AiProvider
{
    OpenAi,
    Anthropic,
}

/// <summary>One model entry: the tenant's (a row of ai_models) or the configuration file's (<see cref="Id"/> null).</summary>
internal sealed record AiModelEntry(
    string? Id,
    string Name,
    AiProvider Provider,
    string Model,
    string? BaseUrl,
    string? KeySecret,
    string? Fallback,
    int TimeoutSeconds,
    double? PriceIn,
    double? PriceOut,
    string? AddedBy = null,
    DateTimeOffset? AddedAt = null)
{
    public const int DefaultTimeoutSeconds = 60;

    public string ProviderName => Provider == AiProvider.Anthropic ? AiProviders.Anthropic : AiProviders.OpenAi;

    public string EffectiveBaseUrl => string.IsNullOrWhiteSpace(BaseUrl) ? AiProviders.DefaultBaseUrl(ProviderName) : BaseUrl.TrimEnd('/');

    /// <summary>What the circuit breaker counts failures of: one model at one address.</summary>
    public string Endpoint => EffectiveBaseUrl + "#" + Model;

    public bool FromConfig => Id is null;

    public static bool TryParseProvider(string? text, out AiProvider provider)
    {
        provider = text switch { AiProviders.Anthropic => AiProvider.Anthropic, _ => AiProvider.OpenAi };
        return text is AiProviders.OpenAi or AiProviders.Anthropic;
    }

    /// <summary>Estimated cost in USD from the entry's prices per million tokens; 0 when it has none.</summary>
    public double Cost(long inputTokens, long outputTokens) =>
        (inputTokens * (PriceIn ?? 0) + outputTokens * (PriceOut ?? 0)) / 1_000_000d;

    public AiModelResponse ToResponse() => new(Id, Name, ProviderName, Model, EffectiveBaseUrl, KeySecret, Fallback, TimeoutSeconds, PriceIn, PriceOut,
        FromConfig ? "config" : "tenant", AddedBy, AddedAt);
}
