using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Medic.Agent.Monitors;
using Medic.Contracts;

namespace Medic.Agent.Watch;

/// <summary>What <c>medic watch</c> tells people: one incident event, already worded.</summary>
/// <param name="Event">gave_up, healed, opened, updated, resolved, diagnosed.</param>
internal sealed record Notification(
    string Event,
    string Host,
    string Monitor,
    string Kind,
    string Severity,
    string Title,
    string Fingerprint,
    DateTimeOffset At,
    IReadOnlyDictionary<string, string> Evidence,
    IReadOnlyDictionary<string, string> Labels,
    string? Report)
{
    /// <summary>The plain-text message for chat and mail: title, then the evidence people need first.</summary>
    public string Text(int maxChars)
    {
        var text = new StringBuilder();
        text.Append("[medic watch] ").Append(Host).Append(": ").AppendLine(Title);
        foreach (var key in new[] { EvidenceKeys.ExitStatus, "gave_up_because", Monitors.LikelyCause.Key, EvidenceKeys.NextRetry, "healed_in_seconds", WatchAiRung.UnderWayKey, WatchAiRung.ProposedFixKey, WatchAiRung.FixKey })
        {
            if (Evidence.TryGetValue(key, out var value)) text.Append(key.Replace('_', ' ')).Append(": ").AppendLine(value);
        }

        if (Evidence.TryGetValue(WatchAiRung.DiagnosisKey, out var diagnosis) && diagnosis.Length > 0) text.AppendLine("diagnosis:").AppendLine(diagnosis);

        if (Evidence.TryGetValue(EvidenceKeys.RestartHistory, out var history) && history.Length > 0) text.AppendLine("restarts:").AppendLine(history);
        if (Evidence.TryGetValue(EvidenceKeys.LastLines, out var lines) && lines.Length > 0) text.AppendLine("last log lines:").AppendLine(lines);
        if (Report is not null) text.Append("report: ").AppendLine(Report);
        var result = text.ToString().TrimEnd();
        return Texts.Truncate(result, maxChars);
    }
}

internal interface INotifier
{
    /// <summary>For logs: never the URL or token (they are secrets).</summary>
    string Name { get; }

    Task SendAsync(Notification notification, CancellationToken ct);
}

/// <summary>A channel that POSTs JSON with the shared <see cref="ChannelDelivery"/>.</summary>
internal abstract class HttpNotifier(HttpClient http) : INotifier
{
    public abstract string Name { get; }

    public abstract Task SendAsync(Notification notification, CancellationToken ct);

    protected Task PostJsonAsync(string url, byte[] json, IReadOnlyDictionary<string, string>? headers, CancellationToken ct) =>
        ChannelDelivery.PostJsonAsync(http, url, json, headers, ct);
}

/// <summary>Any HTTP endpoint: the notification as JSON (schema in docs/watch.md).</summary>
internal sealed class WebhookNotifier(HttpClient http, WebhookTarget target) : HttpNotifier(http)
{
    public override string Name => "webhook";

    public override Task SendAsync(Notification n, CancellationToken ct) =>
        PostJsonAsync(target.Url, JsonSerializer.SerializeToUtf8Bytes(n, WatchJson.Default.Notification), target.Headers, ct);
}

/// <summary>A Slack incoming webhook: <c>{"text": ...}</c>.</summary>
internal sealed class SlackNotifier(HttpClient http, string webhookUrl) : HttpNotifier(http)
{
    public override string Name => "slack";

    public override Task SendAsync(Notification n, CancellationToken ct) =>
        PostJsonAsync(webhookUrl, ChannelDelivery.Slack(n.Text(ChannelDelivery.SlackMaxText)), null, ct);
}

/// <summary>A Discord webhook: <c>{"content": ...}</c>, at most 2,000 characters, mentions disabled.</summary>
internal sealed class DiscordNotifier(HttpClient http, string webhookUrl) : HttpNotifier(http)
{
    public override string Name => "discord";

    public override Task SendAsync(Notification n, CancellationToken ct) =>
        PostJsonAsync(webhookUrl, ChannelDelivery.Discord(n.Text(ChannelDelivery.DiscordMaxText)), null, ct);
}

/// <summary>The Telegram Bot API's sendMessage: POST {api}/bot{token}/sendMessage with chat_id and text (at most 4,096 characters).</summary>
internal sealed class TelegramNotifier(HttpClient http, TelegramTarget target) : HttpNotifier(http)
{
    public override string Name => "telegram";

    public override Task SendAsync(Notification n, CancellationToken ct) =>
        PostJsonAsync(ChannelDelivery.TelegramUrl(target.ApiUrl, target.BotToken), ChannelDelivery.Telegram(target.ChatId, n.Text(ChannelDelivery.TelegramMaxText)), null, ct);
}

/// <summary>Mail over SMTP (STARTTLS when <c>starttls</c>), with System.Net.Mail.</summary>
internal sealed class EmailNotifier(EmailTarget target) : INotifier
{
    public string Name => "email";

    public Task SendAsync(Notification n, CancellationToken ct) => ChannelDelivery.SendMailAsync(
        new MailDelivery(target.Host, target.Port, target.StartTls, target.Username, target.Password, target.From, target.To, $"[medic watch] {n.Host}: {n.Title}", n.Text(100_000)), ct);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(Notification))]
internal sealed partial class WatchJson : JsonSerializerContext;
