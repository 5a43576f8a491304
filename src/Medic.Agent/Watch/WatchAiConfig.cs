using System.Text.RegularExpressions;
using Medic.Agent.Monitors;

namespace Medic.Agent.Watch;

/// <summary>
/// The watch file's <c>ai:</c> section: the model that diagnoses a service the ladder gave up on, its
/// bounds, and the fixes it may run (docs/watch.md#ai-diagnosis). The key is never written in the file.
/// </summary>
internal sealed partial record WatchAiConfig
{
    private const string Docs = "docs/watch.md";

    /// <summary><c>openai</c> (any OpenAI-compatible endpoint) or <c>anthropic</c>.</summary>
    public required string Provider { get; init; }

    public required string? BaseUrl { get; init; }

    public required string Model { get; init; }

    /// <summary>Null for a local server that takes none.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Where the key comes from, for <c>--check</c>: never the key itself.</summary>
    public string KeySource { get; init; } = "no key";

    public int MaxTurns { get; init; } = 20;

    /// <summary>One diagnosis's wall time.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>All the time the rung may spend on one incident, diagnosis and fixes included.</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The recipes it may run; empty: diagnose and propose only.</summary>
    public IReadOnlyList<string> Allow { get; init; } = [];

    public static WatchAiConfig Parse(YamlFields f, Func<string, string?> environment)
    {
        if (f.Has("api_key"))
        {
            throw f.Error(f.LineOf("api_key"), "'api_key' cannot be written in the watch file: name where it is with api_key_env: VARIABLE or api_key_file: /absolute/path");
        }

        var provider = f.RequiredText("provider", "provider: openai (or anthropic)");
        if (provider is not ("openai" or "anthropic")) throw f.Error(f.LineOf("provider"), $"'provider: {provider}' must be openai or anthropic");
        var baseUrl = f.Text("base_url");
        if (baseUrl is not null && !(Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            throw f.Error(f.LineOf("base_url"), $"'base_url: {baseUrl}' is not an http:// or https:// URL");
        }

        string? key = null;
        var keySource = "no key";
        if (f.Text("api_key_env") is { } variable)
        {
            key = environment(variable) is { Length: > 0 } value
                ? value
                : throw f.Error(f.LineOf("api_key_env"), $"the environment variable {variable} (from 'api_key_env') is not set");
            keySource = "key from $" + variable;
        }

        if (f.Text("api_key_file") is { } file)
        {
            if (key is not null) throw f.Error(f.LineOf("api_key_file"), "give api_key_env or api_key_file, not both");
            if (!file.StartsWith('/')) throw f.Error(f.LineOf("api_key_file"), $"'api_key_file: {file}' must be an absolute path");
            try
            {
                key = File.ReadAllText(file).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw f.Error(f.LineOf("api_key_file"), $"the key file {file} cannot be read: {e.Message}");
            }

            if (key.Length == 0) throw f.Error(f.LineOf("api_key_file"), $"the key file {file} is empty");
            keySource = "key from " + file;
        }

        var allow = f.TextList("allow") ?? [];
        foreach (var recipe in allow)
        {
            if (!WatchFixes.Names.Contains(recipe, StringComparer.Ordinal))
            {
                throw f.Error(f.LineOf("allow"), $"'{recipe}' in 'allow' is not a fix medic watch can run here (it can run: {string.Join(", ", WatchFixes.Names)})");
            }
        }

        var config = new WatchAiConfig
        {
            Provider = provider,
            BaseUrl = baseUrl?.TrimEnd('/'),
            Model = f.RequiredText("model", "model: gpt-4o-mini"),
            ApiKey = key,
            KeySource = keySource,
            MaxTurns = f.Integer("max_turns", 1, 200) ?? 20,
            Timeout = TimeSpan.FromSeconds(f.Seconds("timeout", 1, 24 * 3600) ?? 300),
            Budget = TimeSpan.FromSeconds(f.Seconds("budget", 1, 7 * 24 * 3600) ?? 1800),
            Allow = allow,
        };
        if (!ModelPattern().IsMatch(config.Model)) throw f.Error(f.LineOf("model"), $"'model: {config.Model}' is not a model name");
        f.Done("'ai'", ["provider", "base_url", "model", "api_key_env", "api_key_file", "max_turns", "timeout", "budget", "allow"]);
        return config;
    }

    /// <summary>The <c>--check</c> line.</summary>
    public string Describe() =>
        $"ai: {Provider} {Model}{(BaseUrl is null ? "" : " at " + BaseUrl)} ({KeySource}); max {MaxTurns} turns, {Units.Describe(Timeout.TotalSeconds)} per diagnosis, budget {Units.Describe(Budget.TotalSeconds)} per incident; fixes allowed: {(Allow.Count == 0 ? "none (diagnose and propose only)" : string.Join(", ", Allow))}";

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}\z")]
    private static partial Regex ModelPattern();
}
