using System.Text.RegularExpressions;
using Medic.Contracts;

namespace Medic.Server.Ai.Providers;

/// <summary>What a model entry must look like, for the API and for the configuration file.</summary>
internal static partial class AiModelValidation
{
    public const int MaxTimeoutSeconds = 3600;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    public static partial Regex NamePattern();

    public static Dictionary<string, string[]> Validate(AiModelRequest? r)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (r is null)
        {
            errors["body"] = ["Send the entry: name, provider, model, and base_url, key_secret, fallback, timeout_seconds, price_in, price_out as needed."];
            return errors;
        }

        if (!NamePattern().IsMatch(r.Name ?? "")) errors["name"] = ["Use 1-63 lower-case letters, digits, dots, dashes or underscores, e.g. default or fast."];
        if (!AiModelEntry.TryParseProvider(r.Provider, out _)) errors["provider"] = ["Use openai (any OpenAI-compatible endpoint) or anthropic."];
        if (string.IsNullOrWhiteSpace(r.Model) || r.Model.Length > 200) errors["model"] = ["Give the provider's model id, e.g. gpt-4o-mini or claude-sonnet-4-5."];
        if (r.BaseUrl is not null && !IsHttpUrl(r.BaseUrl)) errors["base_url"] = ["Give an http:// or https:// URL, e.g. https://openrouter.ai/api/v1 or http://127.0.0.1:11434/v1."];
        if (r.KeySecret is not null && !NamePattern().IsMatch(r.KeySecret)) errors["key_secret"] = ["Give the name of a secret (medic secrets list), not the key itself."];
        if (r.Fallback is not null && (!NamePattern().IsMatch(r.Fallback) || r.Fallback == r.Name)) errors["fallback"] = ["Name another model entry to try when this one fails."];
        if (r.TimeoutSeconds is < 1 or > MaxTimeoutSeconds) errors["timeout_seconds"] = [$"Use 1 to {MaxTimeoutSeconds} seconds; the default is 60."];
        if (r.PriceIn is < 0 or > 10_000 || r.PriceOut is < 0 or > 10_000) errors["price"] = ["Prices are USD per million tokens, from 0 to 10000."];
        return errors;
    }

    /// <summary>The first mistake in the configuration file's <c>ai.models</c>, as a sentence naming the entry; null when there is none.</summary>
    public static string? ConfigProblem(Common.AiOptions options)
    {
        for (var i = 0; i < options.Models.Count; i++)
        {
            var m = options.Models[i];
            var errors = Validate(ToRequest(m));
            if (errors.Count > 0)
            {
                var (field, messages) = errors.First();
                return $"ai.models[{i}] ({(string.IsNullOrEmpty(m.Name) ? "no name" : m.Name)}): {field}: {messages[0]}";
            }
        }

        return null;
    }

    public static AiModelRequest ToRequest(Common.AiModelOptions m) =>
        new(m.Name, m.Provider, m.Model, m.BaseUrl, m.KeySecret, m.Fallback, m.TimeoutSeconds, m.PriceIn, m.PriceOut);

    private static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" && string.IsNullOrEmpty(u.UserInfo);
}
