using System.Reflection;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Common;
using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Medic.Server.Hosting;

/// <summary>
/// Builds <see cref="MedicOptions"/> with .NET configuration: the defaults, then a YAML or JSON file,
/// then <c>MEDIC_</c>-prefixed environment variables (nested keys joined by <c>__</c>), bound onto the
/// options by their <see cref="ConfigurationKeyNameAttribute"/> names. Command-line flags are applied
/// by the caller last. Every mistake is a <see cref="ConfigException"/> that names the file line or
/// the variable.
/// </summary>
public static partial class ConfigLoader
{
    private const string Prefix = "MEDIC_";

    /// <summary>Variables read by hand because their form is not the binder's: a comma list, and 1/yes for true.</summary>
    private const string TrustedProxiesVariable = "MEDIC_TRUSTED_PROXIES";

    /// <param name="flags">Command-line flags, applied last, before validation.</param>
    public static MedicOptions Load(string? file, string defaultDataDir, IReadOnlyDictionary<string, string?> environment, Action<MedicOptions>? flags = null)
    {
        var options = new MedicOptions { DataDir = defaultDataDir };
        var builder = new ConfigurationBuilder();
        YamlConfigFile? yaml = null;
        if (!string.IsNullOrWhiteSpace(file))
        {
            yaml = ReadFile(file);
            builder.Add(yaml);
        }

        builder.AddInMemoryCollection(environment
            .Where(e => e.Key.StartsWith(Prefix, StringComparison.Ordinal) && !string.IsNullOrWhiteSpace(e.Value)
                        && e.Key is not TrustedProxiesVariable and not Storage.StartupChecks.AcceptFreshDatabaseVariable)
            .Select(e => KeyValuePair.Create(e.Key[Prefix.Length..].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal), e.Value)));
        Bind(builder.Build(), options, yaml, environment);
        if (string.IsNullOrWhiteSpace(options.DataDir)) options.DataDir = defaultDataDir;

        string? Get(string name) => environment.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;
        if (Get(TrustedProxiesVariable) is { } proxies) options.TrustedProxies = [.. proxies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        if (Get(Storage.StartupChecks.AcceptFreshDatabaseVariable) is { } fresh) options.AcceptFreshDatabase = fresh is "1" or "true" or "yes";

        flags?.Invoke(options);
        options.DataDir = Path.GetFullPath(ExpandHome(options.DataDir));
        if (!string.IsNullOrWhiteSpace(options.MasterKeyFile)) options.MasterKeyFile = Path.GetFullPath(ExpandHome(options.MasterKeyFile));
        if (!string.IsNullOrWhiteSpace(options.AgentBinaries)) options.AgentBinaries = Path.GetFullPath(ExpandHome(options.AgentBinaries));
        if (options.Database is { Length: > 7 } db && db.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            options.Database = "sqlite:" + Path.GetFullPath(ExpandHome(db["sqlite:".Length..]));
        }

        Validate(options);
        return options;
    }

    public static IReadOnlyDictionary<string, string?> ProcessEnvironment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            result[(string)e.Key] = e.Value as string;
        }

        return result;
    }

    private static YamlConfigFile ReadFile(string file)
    {
        if (!File.Exists(file))
        {
            throw new ConfigException($"config file '{file}' does not exist", "pass --config (or set MEDIC_CONFIG to) the path of an existing YAML or JSON file");
        }

        try
        {
            var yaml = new YamlConfigFile(file);
            if (yaml.Root is { } root) RefuseUnknownKeys(file, root, typeof(MedicOptions), null);
            return yaml;
        }
        catch (YamlException ex)
        {
            var reason = (ex.InnerException?.Message ?? ex.Message).Split('\n')[0];
            throw new ConfigException($"{file}, line {ex.Start.Line}, column {ex.Start.Column}: {reason}", Remedy);
        }
    }

    private const string Remedy = "fix that line; the settings are listed in docs/configuration.md";

    /// <summary>A key the options do not have is a typo to point at, not something to ignore.</summary>
    private static void RefuseUnknownKeys(string file, YamlMappingNode mapping, Type type, string? section)
    {
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            var property = type.GetProperties().FirstOrDefault(p => p.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name == key);
            if (property is null)
            {
                throw new ConfigException(
                    $"{file}, line {keyNode.Start.Line}, column {keyNode.Start.Column}: there is no setting '{(section is null ? key : section + "." + key)}'", Remedy);
            }

            if (value is YamlMappingNode nested && property.PropertyType.IsClass && property.PropertyType != typeof(string))
            {
                RefuseUnknownKeys(file, nested, property.PropertyType, section is null ? key : section + "." + key);
            }
        }
    }

    private static void Bind(IConfiguration configuration, MedicOptions options, YamlConfigFile? yaml, IReadOnlyDictionary<string, string?> environment)
    {
        try
        {
            configuration.Bind(options);
        }
        catch (InvalidOperationException ex) when (BinderFailure().Match(ex.Message) is { Success: true } failure)
        {
            var (value, key, type) = (failure.Groups["value"].Value, failure.Groups["key"].Value, failure.Groups["type"].Value);
            var what = type.EndsWith("Int32", StringComparison.Ordinal) ? "a whole number" : type.EndsWith("Boolean", StringComparison.Ordinal) ? "true or false" : "a " + type;
            var variable = Prefix + key.Replace(ConfigurationPath.KeyDelimiter, "__", StringComparison.Ordinal).ToUpperInvariant();
            if (environment.ContainsKey(variable))
            {
                throw new ConfigException($"{variable}='{value}' is not {what}", $"set {variable} to {(what == "a whole number" ? "a number such as 10" : what)}");
            }

            var where = yaml?.Where(key) is { } mark ? $"{yaml.Path}, line {mark.Line}, column {mark.Column}: " : "";
            throw new ConfigException($"{where}{key.Replace(ConfigurationPath.KeyDelimiter, ".", StringComparison.Ordinal)} '{value}' is not {what}", Remedy);
        }
    }

    [GeneratedRegex("value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[^']+)'", RegexOptions.Singleline)]
    private static partial Regex BinderFailure();

    private static void Validate(MedicOptions o)
    {
        if (o.RateLimits.LoginPerMinute < 1 || o.RateLimits.ApiPerMinute < 1 || o.RateLimits.WebhooksPerMinute < 1)
        {
            throw new ConfigException("rate limits must be at least 1 request per minute", "raise rate_limits.login_per_minute / api_per_minute / webhooks_per_minute");
        }

        foreach (var (name, value) in new[] { ("tokens.default_lifetime", o.Tokens.DefaultLifetime), ("tokens.max_lifetime", o.Tokens.MaxLifetime) })
        {
            if (!Durations.TryParse(value, out _))
            {
                throw new ConfigException(Duration.NotADuration(name, value), Duration.Hint);
            }
        }

        if (o.Agents.HeartbeatSeconds is < 1 or > 3600)
        {
            throw new ConfigException("agents.heartbeat_seconds must be from 1 to 3600", "the default is 15");
        }

        if (o.Metrics.RefreshSeconds is < 1 or > 3600)
        {
            throw new ConfigException("metrics.refresh_seconds must be from 1 to 3600", "the default is 15");
        }

        if (o.Pipeline.NodeGraceSeconds is < 0 or > 3600)
        {
            throw new ConfigException("pipeline.node_grace_seconds must be from 0 to 3600", "the default is 60");
        }

        if (o.Pipeline.SignalWaitSeconds is < 1 or > 86400)
        {
            throw new ConfigException("pipeline.signal_wait_seconds must be from 1 to 86400", "the default is 600");
        }

        if (!Durations.TryParse(o.EarlyWarning.Interval, out var patrolInterval) || patrolInterval < TimeSpan.FromMinutes(1) || patrolInterval > TimeSpan.FromHours(1))
        {
            throw new ConfigException($"early_warning.interval '{o.EarlyWarning.Interval}' is not a duration from 1m to 1h", $"the default is 5m; {Duration.Hint}");
        }

        if (!Durations.TryParse(o.EarlyWarning.Horizon, out var horizon) || horizon < TimeSpan.FromHours(1) || horizon > TimeSpan.FromDays(30))
        {
            throw new ConfigException($"early_warning.horizon '{o.EarlyWarning.Horizon}' is not a duration from 1h to 30d", $"the default is 24h; {Duration.Hint}");
        }

        if (!Durations.TryParse(o.Audit.CheckpointInterval, out var checkpointInterval) || checkpointInterval < TimeSpan.FromMinutes(1) || checkpointInterval > TimeSpan.FromDays(7))
        {
            throw new ConfigException($"audit.checkpoint_interval '{o.Audit.CheckpointInterval}' is not a duration from 1m to 7d", $"the default is 1h; {Duration.Hint}");
        }

        if (o.Audit.CheckpointWebhook is { } hook && !(Uri.TryCreate(hook, UriKind.Absolute, out var hookUri) && (hookUri.Scheme == Uri.UriSchemeHttp || hookUri.Scheme == Uri.UriSchemeHttps)))
        {
            throw new ConfigException($"audit.checkpoint_webhook '{hook}' is not an http(s) URL", "set it to the URL that receives checkpoints, e.g. https://archive.example.com/medic-checkpoints");
        }

        if (o.Checks.SweepSeconds is < 1 or > 3600)
        {
            throw new ConfigException("checks.sweep_seconds must be from 1 to 3600", "the default is 60");
        }

        if (o.PublicUrl is { Length: > 0 } publicUrl && !(Uri.TryCreate(publicUrl, UriKind.Absolute, out var pu) && pu.Scheme is "http" or "https"))
        {
            throw new ConfigException($"public_url '{publicUrl}' is not an http:// or https:// URL", "set it to the address people open the console at, e.g. https://medic.example.com");
        }

        if (o.Notifications.DampingMinutes is < 1 or > 1440)
        {
            throw new ConfigException("notifications.damping_minutes must be from 1 to 1440", "the default is 30");
        }

        if (o.Notifications.MaxAttempts is < 1 or > 50)
        {
            throw new ConfigException("notifications.max_attempts must be from 1 to 50", "the default is 8");
        }

        Durations.TryParse(o.Tokens.DefaultLifetime, out var defaultLifetime);
        Durations.TryParse(o.Tokens.MaxLifetime, out var maxLifetime);
        if (defaultLifetime > maxLifetime)
        {
            throw new ConfigException($"tokens.default_lifetime ({o.Tokens.DefaultLifetime}) is longer than tokens.max_lifetime ({o.Tokens.MaxLifetime})", "shorten the default or raise the maximum");
        }

        foreach (var url in o.Listen.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http")
            {
                throw new ConfigException($"listen address '{url}' is not an http:// URL",
                    "use e.g. http://127.0.0.1:7431; for HTTPS, put a reverse proxy in front and list it in trusted_proxies (docs/configuration.md)");
            }
        }

        foreach (var proxy in o.TrustedProxies)
        {
            if (!System.Net.IPAddress.TryParse(proxy, out _))
            {
                throw new ConfigException($"trusted proxy '{proxy}' is not an IP address", "list the reverse proxy's own address, e.g. 127.0.0.1");
            }
        }

        if (Ai.Providers.AiModelValidation.ConfigProblem(o.Ai) is { } aiProblem) throw new ConfigException(aiProblem, "fix that entry; docs/ai-providers.md lists the settings");

        if (Storage.Database.Problem(o.DatabaseUrl) is { } problem)
        {
            throw new ConfigException($"database setting: {problem}", "use sqlite:/path/to/medic.db, a key=value PostgreSQL connection string, or postgres://user:pass@host:5432/db");
        }
    }

    public static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "")
            : path;
}
