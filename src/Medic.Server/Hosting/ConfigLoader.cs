using System.Globalization;
using Medic.Contracts;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;
using Medic.Server.Common;

namespace Medic.Server.Hosting;

/// <summary>
/// Builds <see cref="MedicOptions"/> from defaults, then a YAML or JSON file, then
/// <c>MEDIC_</c>-prefixed environment variables (nested keys joined by <c>__</c>). Command-line
/// flags are applied by the caller last.
/// </summary>
public static class ConfigLoader
{
    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    /// <param name="flags">Command-line flags, applied last, before validation.</param>
    public static MedicOptions Load(string? file, string defaultDataDir, IReadOnlyDictionary<string, string?> environment, Action<MedicOptions>? flags = null)
    {
        var options = new MedicOptions { DataDir = defaultDataDir };
        if (!string.IsNullOrWhiteSpace(file))
        {
            options = ReadFile(file, defaultDataDir);
        }

        ApplyEnvironment(options, environment);
        flags?.Invoke(options);
        options.DataDir = Path.GetFullPath(ExpandHome(options.DataDir));
        if (!string.IsNullOrWhiteSpace(options.MasterKeyFile)) options.MasterKeyFile = Path.GetFullPath(ExpandHome(options.MasterKeyFile));
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

    private static MedicOptions ReadFile(string file, string defaultDataDir)
    {
        if (!File.Exists(file))
        {
            throw new ConfigException($"config file '{file}' does not exist", "pass --config (or set MEDIC_CONFIG to) the path of an existing YAML or JSON file");
        }

        try
        {
            using var reader = File.OpenText(file);
            var options = Yaml.Deserialize<MedicOptions?>(reader) ?? new MedicOptions();
            if (string.IsNullOrWhiteSpace(options.DataDir))
            {
                options.DataDir = defaultDataDir;
            }

            options.RateLimits ??= new RateLimitOptions();
            options.Tokens ??= new TokenOptions();
            options.Agents ??= new AgentOptions();
            options.EarlyWarning ??= new EarlyWarningOptions();
            options.Checks ??= new CheckOptions();
            options.Notifications ??= new NotificationOptions();
            options.Audit ??= new AuditOptions();
            options.Pipeline ??= new PipelineOptions();
            return options;
        }
        catch (YamlException ex)
        {
            var reason = (ex.InnerException?.Message ?? ex.Message).Split('\n')[0];
            throw new ConfigException(
                $"{file}, line {ex.Start.Line}, column {ex.Start.Column}: {reason}",
                "fix that line; the settings are listed in docs/configuration.md");
        }
    }

    private static void ApplyEnvironment(MedicOptions o, IReadOnlyDictionary<string, string?> env)
    {
        string? Get(string name) => env.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;

        if (Get("MEDIC_DATA_DIR") is { } dataDir) o.DataDir = dataDir;
        if (Get("MEDIC_DATABASE") is { } database) o.Database = database;
        if (Get("MEDIC_LISTEN") is { } listen) o.Listen = listen;
        if (Get("MEDIC_MASTER_KEY_FILE") is { } keyFile) o.MasterKeyFile = keyFile;
        if (Get("MEDIC_RATE_LIMITS__LOGIN_PER_MINUTE") is { } login) o.RateLimits.LoginPerMinute = ParseInt("MEDIC_RATE_LIMITS__LOGIN_PER_MINUTE", login);
        if (Get("MEDIC_RATE_LIMITS__API_PER_MINUTE") is { } api) o.RateLimits.ApiPerMinute = ParseInt("MEDIC_RATE_LIMITS__API_PER_MINUTE", api);
        if (Get("MEDIC_RATE_LIMITS__WEBHOOKS_PER_MINUTE") is { } hooks) o.RateLimits.WebhooksPerMinute = ParseInt("MEDIC_RATE_LIMITS__WEBHOOKS_PER_MINUTE", hooks);
        if (Get("MEDIC_TOKENS__DEFAULT_LIFETIME") is { } defLife) o.Tokens.DefaultLifetime = defLife;
        if (Get("MEDIC_TOKENS__MAX_LIFETIME") is { } maxLife) o.Tokens.MaxLifetime = maxLife;
        if (Get("MEDIC_AGENTS__HEARTBEAT_SECONDS") is { } hb) o.Agents.HeartbeatSeconds = ParseInt("MEDIC_AGENTS__HEARTBEAT_SECONDS", hb);
        if (Get("MEDIC_EARLY_WARNING__INTERVAL") is { } ewInterval) o.EarlyWarning.Interval = ewInterval;
        if (Get("MEDIC_EARLY_WARNING__HORIZON") is { } ewHorizon) o.EarlyWarning.Horizon = ewHorizon;
        if (Get("MEDIC_CHECKS__SWEEP_SECONDS") is { } sweep) o.Checks.SweepSeconds = ParseInt("MEDIC_CHECKS__SWEEP_SECONDS", sweep);
        if (Get("MEDIC_PUBLIC_URL") is { } publicUrl) o.PublicUrl = publicUrl;
        if (Get("MEDIC_NOTIFICATIONS__DAMPING_MINUTES") is { } damping) o.Notifications.DampingMinutes = ParseInt("MEDIC_NOTIFICATIONS__DAMPING_MINUTES", damping);
        if (Get("MEDIC_NOTIFICATIONS__MAX_ATTEMPTS") is { } attempts) o.Notifications.MaxAttempts = ParseInt("MEDIC_NOTIFICATIONS__MAX_ATTEMPTS", attempts);
        if (Get(Storage.StartupChecks.AcceptFreshDatabaseVariable) is { } fresh) o.AcceptFreshDatabase = fresh is "1" or "true" or "yes";
        if (Get("MEDIC_AUDIT__CHECKPOINT_INTERVAL") is { } cpInterval) o.Audit.CheckpointInterval = cpInterval;
        if (Get("MEDIC_AUDIT__CHECKPOINT_KEY_FILE") is { } cpKey) o.Audit.CheckpointKeyFile = cpKey;
        if (Get("MEDIC_AUDIT__CHECKPOINT_WEBHOOK") is { } cpHook) o.Audit.CheckpointWebhook = cpHook;
        if (Get("MEDIC_PIPELINE__NODE_GRACE_SECONDS") is { } grace) o.Pipeline.NodeGraceSeconds = ParseInt("MEDIC_PIPELINE__NODE_GRACE_SECONDS", grace);
        if (Get("MEDIC_PIPELINE__SIGNAL_WAIT_SECONDS") is { } signalWait) o.Pipeline.SignalWaitSeconds = ParseInt("MEDIC_PIPELINE__SIGNAL_WAIT_SECONDS", signalWait);
        if (Get("MEDIC_TRUSTED_PROXIES") is { } proxies) o.TrustedProxies = [.. proxies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    private static int ParseInt(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new ConfigException($"{name}='{value}' is not a whole number", $"set {name} to a number such as 10");

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
