using System.Security.Cryptography;
using System.Text;
using Medic.Agent.Monitors;
using Medic.Contracts.Agent;

namespace Medic.Agent.Watch;

/// <summary>A <c>watch.yaml</c>: the monitors, where state, reports and the log go, and whom to notify (docs/watch.md).</summary>
internal sealed record WatchConfig
{
    private const string Docs = "docs/watch.md";

    public required string SourcePath { get; init; }

    public required IReadOnlyList<MonitorDefinition> Monitors { get; init; }

    public required string StateDir { get; init; }

    public required string ReportsDir { get; init; }

    public required string LogPath { get; init; }

    public long LogMaxBytes { get; init; } = 10 * 1024 * 1024;

    public int LogFiles { get; init; } = 5;

    public NotifyConfig Notify { get; init; } = new();

    /// <summary>The AI rung after the ladder gives up; null without an <c>ai:</c> section.</summary>
    public WatchAiConfig? Ai { get; init; }

    /// <summary>The secret values the file names (notifier tokens, passwords, webhook URLs and headers, the model's key): never sent to a model.</summary>
    public IReadOnlyList<string> Secrets()
    {
        var n = Notify;
        IEnumerable<string?> all =
        [
            Ai?.ApiKey, n.SlackWebhookUrl, n.DiscordWebhookUrl, n.Telegram?.BotToken, n.Email?.Password, n.Webhook?.Url,
            .. n.Webhook?.Headers.Values ?? [],
        ];
        return [.. all.OfType<string>().Where(s => s.Length >= 4).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)];
    }

    public static WatchConfig Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new AgentException($"{path} does not exist", $"write a watch file first; the format and an example are in {Docs}");
        }

        return Parse(File.ReadAllText(full), full, Environment.GetEnvironmentVariable);
    }

    public static WatchConfig Parse(string text, string fullPath, Func<string, string?> environment)
    {
        YamlNode? root;
        try
        {
            root = StrictYaml.Parse(text);
        }
        catch (YamlSyntaxException ex)
        {
            throw YamlFields.Error(fullPath, ex.Line, ex.Message, Docs);
        }

        var f = new YamlFields(root, fullPath, Docs, "a watch file");
        var monitors = MonitorFile.ParseList(f.Node("monitors"), fullPath, Docs);
        if (monitors.Count == 0) throw new AgentException($"{fullPath}: no monitors: the file needs a 'monitors:' list", $"add at least one monitor under 'monitors:'; the format is in {Docs}");
        var stateDir = Absolute(f, "state_dir") ?? DefaultStateDir(fullPath, environment);
        var log = new YamlFields(f.Node("log"), fullPath, Docs, "'log'");
        var config = new WatchConfig
        {
            SourcePath = fullPath,
            Monitors = monitors,
            StateDir = stateDir,
            ReportsDir = Absolute(f, "reports_dir") ?? Path.Combine(stateDir, "reports"),
            LogPath = Absolute(log, "path") ?? Path.Combine(stateDir, "watch.log"),
            LogMaxBytes = log.Bytes("max_bytes", 4096, 1L << 40) ?? 10 * 1024 * 1024,
            LogFiles = log.Integer("files", 1, 100) ?? 5,
            Notify = NotifyConfig.Parse(new YamlFields(f.Node("notify"), fullPath, Docs, "'notify'"), fullPath, environment),
            Ai = f.Has("ai") ? WatchAiConfig.Parse(new YamlFields(f.Node("ai"), fullPath, Docs, "'ai'"), environment) : null,
        };
        log.Done("'log'", ["path", "max_bytes", "files"]);
        f.Done("a watch file", ["monitors", "state_dir", "reports_dir", "log", "notify", "ai"]);
        return config;
    }

    private static string? Absolute(YamlFields f, string key) =>
        f.Text(key) switch
        {
            null => null,
            ['/', ..] path => path,
            var other => throw f.Error(f.LineOf(key), $"'{key}: {other}' must be an absolute path"),
        };

    /// <summary>One directory per watch file: under /var/lib/medic/watch as root, else ~/.medic/watch.</summary>
    internal static string DefaultStateDir(string watchFile, Func<string, string?> environment)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(watchFile)))[..8];
        var name = $"{Path.GetFileNameWithoutExtension(watchFile)}-{hash}";
        var home = environment("HOME");
        var root = Environment.UserName == "root" || string.IsNullOrEmpty(home) ? "/var/lib/medic/watch" : Path.Combine(home, ".medic", "watch");
        return Path.Combine(root, name);
    }
}

/// <summary>Where <c>medic watch</c> sends word, and when.</summary>
internal sealed record NotifyConfig
{
    /// <summary>Also when the ladder healed a process (it always notifies when it gives up).</summary>
    public bool OnHeal { get; init; }

    /// <summary>When a monitor that does not heal (disk, http, ...) fires and resolves.</summary>
    public bool OnAlert { get; init; } = true;

    public WebhookTarget? Webhook { get; init; }

    public string? SlackWebhookUrl { get; init; }

    public string? DiscordWebhookUrl { get; init; }

    public TelegramTarget? Telegram { get; init; }

    public EmailTarget? Email { get; init; }

    public static NotifyConfig Parse(YamlFields f, string source, Func<string, string?> environment)
    {
        const string Docs = "docs/watch.md";
        var config = new NotifyConfig
        {
            OnHeal = f.Bool("on_heal") ?? false,
            OnAlert = f.Bool("on_alert") ?? true,
        };
        if (f.Has("webhook"))
        {
            var w = new YamlFields(f.Node("webhook"), source, Docs, "'notify.webhook'");
            config = config with { Webhook = new WebhookTarget(Url(w, "url"), w.TextMap("headers")) };
            w.Done("'notify.webhook'", ["url", "headers"]);
        }

        if (f.Has("slack"))
        {
            var s = new YamlFields(f.Node("slack"), source, Docs, "'notify.slack'");
            config = config with { SlackWebhookUrl = Url(s, "webhook_url") };
            s.Done("'notify.slack'", ["webhook_url"]);
        }

        if (f.Has("discord"))
        {
            var d = new YamlFields(f.Node("discord"), source, Docs, "'notify.discord'");
            config = config with { DiscordWebhookUrl = Url(d, "webhook_url") };
            d.Done("'notify.discord'", ["webhook_url"]);
        }

        if (f.Has("telegram"))
        {
            var t = new YamlFields(f.Node("telegram"), source, Docs, "'notify.telegram'");
            config = config with
            {
                Telegram = new TelegramTarget(
                    Secret(t, "bot_token", environment, "bot_token: '123456:ABC...' or bot_token_env: TELEGRAM_BOT_TOKEN"),
                    t.RequiredText("chat_id", "chat_id: '-1001234567890'"),
                    t.Has("api_url") ? Url(t, "api_url") : "https://api.telegram.org"),
            };
            t.Done("'notify.telegram'", ["bot_token", "bot_token_env", "chat_id", "api_url"]);
        }

        if (f.Has("email"))
        {
            var e = new YamlFields(f.Node("email"), source, Docs, "'notify.email'");
            var to = e.TextList("to") is { Count: > 0 } list ? list : throw e.Error(e.Line, "'to' is required (for example to: [ops@example.com])");
            var username = e.Text("username");
            config = config with
            {
                Email = new EmailTarget(
                    e.RequiredText("smtp_host", "smtp_host: smtp.example.com"),
                    e.Integer("smtp_port", 1, 65535) ?? 587,
                    e.Bool("starttls") ?? true,
                    username,
                    username is null ? null : Secret(e, "password", environment, "password_env: SMTP_PASSWORD"),
                    e.RequiredText("from", "from: medic@example.com"),
                    to),
            };
            e.Done("'notify.email'", ["smtp_host", "smtp_port", "starttls", "username", "password", "password_env", "from", "to"]);
        }

        f.Done("'notify'", ["on_heal", "on_alert", "webhook", "slack", "discord", "telegram", "email"]);
        return config;
    }

    public IEnumerable<string> Channels()
    {
        if (Webhook is not null) yield return "webhook";
        if (SlackWebhookUrl is not null) yield return "slack";
        if (DiscordWebhookUrl is not null) yield return "discord";
        if (Telegram is not null) yield return "telegram";
        if (Email is not null) yield return "email";
    }

    private static string Url(YamlFields f, string key)
    {
        var url = f.RequiredText(key, $"{key}: https://...");
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? url.TrimEnd('/')
            : throw f.Error(f.LineOf(key), $"'{key}' is not an http:// or https:// URL");
    }

    /// <summary>A secret written in the file, or (better) named by KEY_env and read from the environment.</summary>
    private static string Secret(YamlFields f, string key, Func<string, string?> environment, string example)
    {
        if (f.Text(key + "_env") is { } variable)
        {
            return environment(variable) is { Length: > 0 } value
                ? value
                : throw f.Error(f.LineOf(key + "_env"), $"the environment variable {variable} (from '{key}_env') is not set");
        }

        return f.RequiredText(key, example);
    }
}

internal sealed record WebhookTarget(string Url, IReadOnlyDictionary<string, string> Headers);

internal sealed record TelegramTarget(string BotToken, string ChatId, string ApiUrl);

internal sealed record EmailTarget(string Host, int Port, bool StartTls, string? Username, string? Password, string From, IReadOnlyList<string> To);
