using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary>Model providers: <c>openai</c> for every OpenAI-compatible endpoint, <c>anthropic</c> for the Anthropic Messages API.</summary>
public static class AiProviders
{
    public const string OpenAi = "openai";
    public const string Anthropic = "anthropic";

    public static readonly IReadOnlyList<string> All = [OpenAi, Anthropic];

    public static string DefaultBaseUrl(string provider) => provider == Anthropic ? "https://api.anthropic.com" : "https://api.openai.com/v1";
}

/// <summary>A model entry to add: <c>POST /api/v1/ai/models</c>. The key is a secret's name, never its value.</summary>
public sealed record AiModelRequest(
    string Name,
    string Provider,
    string Model,
    string? BaseUrl = null,
    string? KeySecret = null,
    string? Fallback = null,
    int? TimeoutSeconds = null,
    double? PriceIn = null,
    double? PriceOut = null);

/// <summary>
/// A model entry: the tenant's (<c>source: tenant</c>) or the configuration file's, which every tenant
/// sees (<c>source: config</c>, <see cref="Id"/> null). Prices are USD per million tokens.
/// </summary>
public sealed record AiModelResponse(
    string? Id,
    string Name,
    string Provider,
    string Model,
    string BaseUrl,
    string? KeySecret,
    string? Fallback,
    int TimeoutSeconds,
    double? PriceIn,
    double? PriceOut,
    string Source,
    string? AddedBy = null,
    DateTimeOffset? AddedAt = null);

/// <summary>The answer to <c>POST /api/v1/ai/models/{name}/test</c>: one tiny prompt, which entry answered and how fast.</summary>
public sealed record AiModelTestResponse(string Name, bool Ok, long LatencyMs, string? AnsweredBy, string? Reply, string? Error);

/// <summary><c>PUT /api/v1/ai/budget</c>: the tenant's monthly AI budget in USD; null removes the limit.</summary>
public sealed record AiBudgetRequest(double? MonthlyUsd);

/// <summary>This calendar month's (UTC) AI spend against the budget; <see cref="Exhausted"/> stops AI runs, never the rules engine.</summary>
public sealed record AiBudgetResponse(double? MonthlyUsd, double SpentUsd, bool Exhausted, string Month);

/// <summary>One group of <c>GET /api/v1/ai/usage?month=YYYY-MM&amp;by=agent|model|run</c>.</summary>
public sealed record AiUsageRow(string? Key, long Calls, long InputTokens, long OutputTokens, double CostUsd);

public sealed record AiUsageResponse(string Month, string By, IReadOnlyList<AiUsageRow> Rows, long InputTokens, long OutputTokens, double CostUsd);

/// <summary>
/// The AI model DTOs' serializer: its own context, since System.Text.Json's source generator emits
/// duplicate files when <see cref="MedicJson"/>'s attributes are spread over partial declarations.
/// The server chains it after <see cref="MedicJson"/>; the options are <see cref="MedicJson"/>'s.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(AiModelRequest))]
[JsonSerializable(typeof(AiModelResponse))]
[JsonSerializable(typeof(IReadOnlyList<AiModelResponse>))]
[JsonSerializable(typeof(AiModelTestResponse))]
[JsonSerializable(typeof(AiBudgetRequest))]
[JsonSerializable(typeof(AiBudgetResponse))]
[JsonSerializable(typeof(AiUsageResponse))]
public sealed partial class AiModelsJson : JsonSerializerContext;
