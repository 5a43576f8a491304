using System.Globalization;
using Medic.Contracts;
using Medic.Server.Secrets;

namespace Medic.Server.Notifications;

/// <summary>Sends one message to one channel: an HTTP POST of the receiver's payload, or a mail over SMTP.</summary>
internal sealed class NotificationSender(IHttpClientFactory clients, SecretStore named, TimeProvider time)
{
    public const string HttpClientName = "medic-notify";
    public const string DefaultTelegramApi = ChannelDelivery.DefaultTelegramApi;
    public const string DefaultPagerDutyApi = "https://events.pagerduty.com";
    public const string SignatureHeader = "X-Medic-Signature";
    public const string TimestampHeader = "X-Medic-Timestamp";
    public static readonly TimeSpan Timeout = ChannelDelivery.Timeout;

    public async Task SendAsync(NotificationChannelRow channel, ChannelSecrets secrets, NotificationMessage m, CancellationToken ct)
    {
        // A URL or token given as secret:NAME is the tenant's named secret, read now: a rotated secret applies from the next message.
        secrets = new ChannelSecrets { Url = await NamedAsync(channel.TenantId, secrets.Url, ct), Secret = await NamedAsync(channel.TenantId, secrets.Secret, ct) };
        var s = channel.SettingsValue;
        await (channel.Kind switch
        {
            ChannelKinds.Slack => PostAsync(Required(secrets.Url, "webhook URL"), NotificationPayloads.Slack(m), null, ct),
            ChannelKinds.Teams => PostAsync(Required(secrets.Url, "webhook URL"), NotificationPayloads.Teams(m), null, ct),
            ChannelKinds.Discord => PostAsync(Required(secrets.Url, "webhook URL"), NotificationPayloads.Discord(m), null, ct),
            ChannelKinds.Telegram => PostAsync(ChannelDelivery.TelegramUrl(s.ApiUrl, Required(secrets.Secret, "bot token")), NotificationPayloads.Telegram(s.ChatId ?? "", m), null, ct),
            ChannelKinds.PagerDuty => PostAsync($"{(s.ApiUrl ?? DefaultPagerDutyApi).TrimEnd('/')}/v2/enqueue", NotificationPayloads.PagerDuty(Required(secrets.Secret, "routing key"), m), null, ct),
            ChannelKinds.Webhook => SendWebhookAsync(secrets, m, ct),
            ChannelKinds.Email => SendMailAsync(s, secrets, m, ct),
            _ => throw new NotifyException($"unknown channel kind '{channel.Kind}'"),
        });
    }

    public const string SecretPrefix = "secret:";

    private async Task<string?> NamedAsync(string tenantId, string? value, CancellationToken ct)
    {
        if (value is null || !value.StartsWith(SecretPrefix, StringComparison.Ordinal)) return value;
        var name = value[SecretPrefix.Length..];
        return await named.RevealAsync(tenantId, name, ct)
            ?? throw new NotifyException($"the secret '{name}' this channel names does not exist in this tenant; set it with 'medic secrets set {name}'");
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

    private Task PostAsync(string url, byte[] json, Dictionary<string, string>? headers, CancellationToken ct) =>
        ChannelDelivery.PostJsonAsync(clients.CreateClient(HttpClientName), url, json, headers, ct);

    private static Task SendMailAsync(ChannelSettings s, ChannelSecrets secrets, NotificationMessage m, CancellationToken ct) =>
        ChannelDelivery.SendMailAsync(
            new MailDelivery(
                s.SmtpHost ?? throw new NotifyException("the channel has no SMTP host"), s.SmtpPort ?? 25, s.StartTls, s.SmtpUsername, secrets.Secret,
                s.From ?? throw new NotifyException("the channel has no sender address"), s.To ?? [], m.Headline, m.Text(100_000))
            {
                Headers = new Dictionary<string, string> { ["X-Medic-Delivery"] = m.DeliveryId },
            },
            ct);
}
