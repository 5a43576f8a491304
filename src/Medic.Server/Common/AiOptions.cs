using Microsoft.Extensions.Configuration;

namespace Medic.Server.Common;

/// <summary>The <c>ai:</c> section of the configuration file. See docs/ai-providers.md.</summary>
public sealed class AiOptions
{
    /// <summary>Model entries every tenant can use (listed as <c>source: config</c>), besides the tenant's own.</summary>
    [ConfigurationKeyName("models")]
    public List<AiModelOptions> Models { get; set; } = [];
}

public sealed class AiModelOptions
{
    [ConfigurationKeyName("name")]
    public string Name { get; set; } = "";

    /// <summary><c>openai</c> (any OpenAI-compatible endpoint) or <c>anthropic</c>.</summary>
    [ConfigurationKeyName("provider")]
    public string Provider { get; set; } = "";

    [ConfigurationKeyName("model")]
    public string Model { get; set; } = "";

    [ConfigurationKeyName("base_url")]
    public string? BaseUrl { get; set; }

    /// <summary>The name of the secret holding the API key, looked up in the calling tenant's secrets.</summary>
    [ConfigurationKeyName("key_secret")]
    public string? KeySecret { get; set; }

    [ConfigurationKeyName("fallback")]
    public string? Fallback { get; set; }

    [ConfigurationKeyName("timeout_seconds")]
    public int TimeoutSeconds { get; set; } = 60;

    [ConfigurationKeyName("price_in")]
    public double? PriceIn { get; set; }

    [ConfigurationKeyName("price_out")]
    public double? PriceOut { get; set; }
}
