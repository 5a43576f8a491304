using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Mail;

namespace Medic.Server.Notifications;

/// <summary>A delivery failed. The message never holds a webhook URL, a token or a password: it is logged and shown in the delivery log.</summary>
public sealed class NotifyException(string message) : Exception(message);

/// <summary>Sends one message to one channel: an HTTP POST of the receiver's payload, or a mail over SMTP.</summary>
public sealed class NotificationSender(IHttpClientFactory clients, TimeProvider time)
{
    public const string HttpClientName = "medic-notify";
    public const string DefaultTelegramApi = "https://api.telegram.org";
    public const string DefaultPagerDutyApi = "https://events.pagerduty.com";
    public const string SignatureHeader = "X-Medic-Signature";
    public const string TimestampHeader = "X-Medic-Timestamp";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public Task SendAsync(NotificationChannelRow channel, ChannelSecrets secrets, NotificationMessage m, CancellationToken ct)
    {
        var s = channel.SettingsValue;
        return channel.Kind switch
        {
            ChannelKinds.Slack => PostAsync(Required(secrets.Url, "webhook URL"), NotificationPayloads.Slack(m), null, ct),
            ChannelKinds.Teams => PostAsync(Required(secrets.Url, "webhook URL"), NotificationPayloads.Teams(m), null, ct),
            ChannelKinds.Discord => PostAsync(Required(secrets.Url, "webhook URL"), NotificationPayloads.Discord(m), null, ct),
            ChannelKinds.Telegram => PostAsync(
                $"{(s.ApiUrl ?? DefaultTelegramApi).TrimEnd('/')}/bot{Required(secrets.Secret, "bot token")}/sendMessage",
                NotificationPayloads.Telegram(s.ChatId ?? "", m), null, ct),
            ChannelKinds.PagerDuty => PostAsync($"{(s.ApiUrl ?? DefaultPagerDutyApi).TrimEnd('/')}/v2/enqueue", NotificationPayloads.PagerDuty(Required(secrets.Secret, "routing key"), m), null, ct),
            ChannelKinds.Webhook => SendWebhookAsync(secrets, m, ct),
            ChannelKinds.Email => SendMailAsync(s, secrets, m, ct),
            _ => throw new NotifyException($"unknown channel kind '{channel.Kind}'"),
        };
    }

    private Task SendWebhookAsync(ChannelSecrets secrets, NotificationMessage m, CancellationToken ct)
    {
        var body = NotificationPayloads.Webhook(m);
        var headers = new Dictionary<string, string> { ["X-Medic-Event"] = m.Event, ["X-Medic-Delivery"] = m.DeliveryId };
        if (secrets.Secret is { Length: > 0 } secret)
        {
            var ts = time.GetUtcNow().ToUnixTimeSeconds();
            headers[TimestampHeader] = ts.ToString(CultureInfo.InvariantCulture);
            headers[SignatureHeader] = NotificationPayloads.Signature(secret, ts, body);
        }

        return PostAsync(Required(secrets.Url, "URL"), body, headers, ct);
    }

    private static string Required(string? value, string what) =>
        string.IsNullOrEmpty(value) ? throw new NotifyException($"the channel has no {what}; add the channel again with one") : value;

    private async Task PostAsync(string url, byte[] json, Dictionary<string, string>? headers, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        foreach (var (name, value) in headers ?? []) request.Headers.TryAddWithoutValidation(name, value);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        var http = clients.CreateClient(HttpClientName);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(timeout.Token);
                body = body.ReplaceLineEndings(" ").Trim();
                throw new NotifyException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}{(body.Length > 0 ? ": " + (body.Length <= 200 ? body : body[..200]) : "")}");
            }
        }
        catch (HttpRequestException e)
        {
            // The exception's own message may name the URL (which holds a token for chat webhooks): only its category is kept.
            throw new NotifyException($"{request.RequestUri?.Host}:{request.RequestUri?.Port}: the request failed ({e.HttpRequestError})");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new NotifyException($"{request.RequestUri?.Host}:{request.RequestUri?.Port}: no answer within {Timeout.TotalSeconds:0} s");
        }
    }

    private static async Task SendMailAsync(ChannelSettings s, ChannelSecrets secrets, NotificationMessage m, CancellationToken ct)
    {
        var host = s.SmtpHost ?? throw new NotifyException("the channel has no SMTP host");
        var port = s.SmtpPort ?? 25;
        using var message = new MailMessage { From = new MailAddress(s.From ?? throw new NotifyException("the channel has no sender address")), Subject = m.Headline, Body = m.Text(100_000) };
        foreach (var to in s.To ?? []) message.To.Add(to);
        message.Headers.Add("X-Medic-Delivery", m.DeliveryId);
        using var client = new SmtpClient(host, port) { EnableSsl = s.StartTls, Timeout = (int)Timeout.TotalMilliseconds };
        if (s.SmtpUsername is not null) client.Credentials = new System.Net.NetworkCredential(s.SmtpUsername, secrets.Secret);
        try
        {
            await client.SendMailAsync(message, ct);
        }
        catch (SmtpException e)
        {
            throw new NotifyException($"SMTP {host}:{port}: {e.StatusCode}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            throw new NotifyException($"SMTP {host}:{port}: {e.Message}");
        }
    }
}
