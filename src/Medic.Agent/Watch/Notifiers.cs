using System.Net.Http.Headers;
using System.Net.Mail;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Medic.Agent.Monitors;

namespace Medic.Agent.Watch;

/// <summary>What <c>medic watch</c> tells people: one incident event, already worded.</summary>
/// <param name="Event">gave_up, healed, opened, resolved.</param>
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
        foreach (var key in new[] { EvidenceKeys.ExitStatus, "gave_up_because", "healed_in_seconds" })
        {
            if (Evidence.TryGetValue(key, out var value)) text.Append(key.Replace('_', ' ')).Append(": ").AppendLine(value);
        }

        if (Evidence.TryGetValue(EvidenceKeys.RestartHistory, out var history) && history.Length > 0) text.AppendLine("restarts:").AppendLine(history);
        if (Evidence.TryGetValue(EvidenceKeys.LastLines, out var lines) && lines.Length > 0) text.AppendLine("last log lines:").AppendLine(lines);
        if (Report is not null) text.Append("report: ").AppendLine(Report);
        var result = text.ToString().TrimEnd();
        return result.Length <= maxChars ? result : result[..(maxChars - 1)] + "…";
    }
}

internal interface INotifier
{
    /// <summary>For logs: never the URL or token (they are secrets).</summary>
    string Name { get; }

    Task SendAsync(Notification notification, CancellationToken ct);
}

/// <summary>A notifier failed; the message never contains the URL or a token.</summary>
internal sealed class NotifyException(string message) : Exception(message);

internal abstract class HttpNotifier(HttpClient http) : INotifier
{
    public abstract string Name { get; }

    public abstract Task SendAsync(Notification notification, CancellationToken ct);

    protected async Task PostJsonAsync(string url, byte[] json, IReadOnlyDictionary<string, string>? headers, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("medic-watch", AgentProgram.Version));
        foreach (var (name, value) in headers ?? new Dictionary<string, string>()) request.Headers.TryAddWithoutValidation(name, value);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(timeout.Token);
                throw new NotifyException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}{(body.Length > 0 ? ": " + body[..Math.Min(body.Length, 200)] : "")}");
            }
        }
        catch (HttpRequestException e)
        {
            throw new NotifyException(e.HttpRequestError == HttpRequestError.Unknown ? "the request failed" : $"the request failed ({e.HttpRequestError})");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new NotifyException("no answer within 15 s");
        }
    }
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
        PostJsonAsync(webhookUrl, JsonSerializer.SerializeToUtf8Bytes(new SlackMessage(n.Text(3000)), WatchJson.Default.SlackMessage), null, ct);
}

/// <summary>A Discord webhook: <c>{"content": ...}</c>, at most 2,000 characters.</summary>
internal sealed class DiscordNotifier(HttpClient http, string webhookUrl) : HttpNotifier(http)
{
    public override string Name => "discord";

    public override Task SendAsync(Notification n, CancellationToken ct) =>
        PostJsonAsync(webhookUrl, JsonSerializer.SerializeToUtf8Bytes(new DiscordMessage(n.Text(2000)), WatchJson.Default.DiscordMessage), null, ct);
}

/// <summary>The Telegram Bot API's sendMessage: POST {api}/bot{token}/sendMessage with chat_id and text (at most 4,096 characters).</summary>
internal sealed class TelegramNotifier(HttpClient http, TelegramTarget target) : HttpNotifier(http)
{
    public override string Name => "telegram";

    public override Task SendAsync(Notification n, CancellationToken ct) =>
        PostJsonAsync($"{target.ApiUrl}/bot{target.BotToken}/sendMessage", JsonSerializer.SerializeToUtf8Bytes(new TelegramMessage(target.ChatId, n.Text(4096)), WatchJson.Default.TelegramMessage), null, ct);
}

/// <summary>Mail over SMTP (STARTTLS when <c>starttls</c>), with System.Net.Mail.</summary>
internal sealed class EmailNotifier(EmailTarget target) : INotifier
{
    public string Name => "email";

    public async Task SendAsync(Notification n, CancellationToken ct)
    {
        using var message = new MailMessage { From = new MailAddress(target.From), Subject = $"[medic watch] {n.Host}: {n.Title}".ReplaceLineEndings(" "), Body = n.Text(100_000) };
        foreach (var to in target.To) message.To.Add(to);
        using var client = new SmtpClient(target.Host, target.Port) { EnableSsl = target.StartTls, Timeout = 15_000 };
        if (target.Username is not null) client.Credentials = new System.Net.NetworkCredential(target.Username, target.Password);
        try
        {
            await client.SendMailAsync(message, ct);
        }
        catch (SmtpException e)
        {
            throw new NotifyException($"SMTP {target.Host}:{target.Port}: {e.StatusCode}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            throw new NotifyException($"SMTP {target.Host}:{target.Port}: {e.Message}");
        }
    }
}

internal sealed record SlackMessage(string Text);

internal sealed record DiscordMessage(string Content);

internal sealed record TelegramMessage(string ChatId, string Text);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(Notification))]
[JsonSerializable(typeof(SlackMessage))]
[JsonSerializable(typeof(DiscordMessage))]
[JsonSerializable(typeof(TelegramMessage))]
internal sealed partial class WatchJson : JsonSerializerContext;
