using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Medic.Contracts;

namespace Medic.Server.Notifications;

/// <summary>One thing to tell people: an incident event (or a channel test), already resolved to a link.</summary>
/// <param name="DeliveryId">Unique per delivery; receivers that may see a retry can drop repeats by it.</param>
/// <param name="Escalation">For <c>escalated</c>: why, what was tried, what is likely wrong (keys of <see cref="EscalationSummary"/>), shown before the other facts.</param>
internal sealed record NotificationMessage(string Event, IncidentResponse? Incident, string? ApprovalId, string? Link, DateTimeOffset At, string DeliveryId,
    IReadOnlyDictionary<string, string>? Escalation = null)
{
    /// <summary>One line: "[medic] CRITICAL opened: disk full on web-1".</summary>
    public string Headline => Incident is not { } i
        ? "[medic] test message: this channel works"
        : $"[medic] {i.Severity.ToUpperInvariant()} {EventPhrase}: {i.Title}".ReplaceLineEndings(" ");

    public string EventPhrase => Event switch
    {
        NotificationEvents.Reminder => "still open, not acknowledged",
        NotificationEvents.ApprovalRequested => "approval requested",
        _ => Event,
    };

    /// <summary>The facts people need first, as (name, value) pairs.</summary>
    public IReadOnlyList<(string Name, string Value)> Facts
    {
        get
        {
            if (Incident is not { } i) return [("sent", At.ToString("u", CultureInfo.InvariantCulture))];
            var facts = new List<(string, string)>();
            foreach (var (key, name) in EscalationSummary.Facts)
            {
                if (Escalation?.GetValueOrDefault(key) is { Length: > 0 } value) facts.Add((name, value));
            }

            facts.AddRange([("incident", i.Id), ("status", i.Status.ToText()), ("severity", i.Severity), ("server", i.Server ?? "-"), ("source", i.Source)]);
            if (i.AcknowledgedBy is not null) facts.Add(("acknowledged by", i.AcknowledgedBy));
            if (i.Resolution is not null) facts.Add(("resolution", i.Resolution));
            if (i.Labels.Count > 0) facts.Add(("labels", string.Join(", ", i.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value))));
            if (i.Flapping) facts.Add(("flapping", "yes: repeats are damped"));
            return facts;
        }
    }

    /// <summary>Plain text for chat and mail, cut to <paramref name="maxChars"/>.</summary>
    public string Text(int maxChars)
    {
        var text = new StringBuilder().AppendLine(Headline);
        if (Incident?.Summary is { Length: > 0 } summary) text.AppendLine(summary);
        foreach (var (name, value) in Facts) text.Append(name).Append(": ").AppendLine(value);
        if (Link is not null) text.AppendLine(Link);
        var result = text.ToString().TrimEnd();
        return result.Length <= maxChars ? result : result[..(maxChars - 1)] + "…";
    }
}

/// <summary>
/// The request bodies each receiver expects, as pure functions of the message (wire formats checked
/// against each service's documentation; see docs/notifications.md).
/// </summary>
internal static class NotificationPayloads
{
    public static byte[] Slack(NotificationMessage m) => ChannelDelivery.Slack(m.Text(ChannelDelivery.SlackMaxText));

    public static byte[] Discord(NotificationMessage m) => ChannelDelivery.Discord(m.Text(ChannelDelivery.DiscordMaxText));

    public static byte[] Telegram(string chatId, NotificationMessage m) => ChannelDelivery.Telegram(chatId, m.Text(ChannelDelivery.TelegramMaxText));

    /// <summary>
    /// Microsoft Teams (a Workflows "post to a channel when a webhook request is received" URL, or a
    /// classic incoming webhook): a message whose one attachment is an Adaptive Card 1.4 with the
    /// headline, the summary, a fact set and a button to the console.
    /// </summary>
    public static byte[] Teams(NotificationMessage m) => Write(w =>
    {
        w.WriteString("type", "message");
        w.WriteStartArray("attachments");
        w.WriteStartObject();
        w.WriteString("contentType", "application/vnd.microsoft.card.adaptive");
        w.WriteNull("contentUrl");
        w.WriteStartObject("content");
        w.WriteString("$schema", "http://adaptivecards.io/schemas/adaptive-card.json");
        w.WriteString("type", "AdaptiveCard");
        w.WriteString("version", "1.4");
        w.WriteStartArray("body");
        TextBlock(w, m.Headline, bold: true);
        if (m.Incident?.Summary is { Length: > 0 } summary) TextBlock(w, summary.Length <= 2000 ? summary : summary[..1999] + "…", bold: false);
        w.WriteStartObject();
        w.WriteString("type", "FactSet");
        w.WriteStartArray("facts");
        foreach (var (name, value) in m.Facts)
        {
            w.WriteStartObject();
            w.WriteString("title", name);
            w.WriteString("value", value);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        if (m.Link is not null)
        {
            w.WriteStartArray("actions");
            w.WriteStartObject();
            w.WriteString("type", "Action.OpenUrl");
            w.WriteString("title", m.Event == NotificationEvents.ApprovalRequested ? "Review the approval" : "Open in Medic");
            w.WriteString("url", m.Link);
            w.WriteEndObject();
            w.WriteEndArray();
        }

        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    });

    private static void TextBlock(Utf8JsonWriter w, string text, bool bold)
    {
        w.WriteStartObject();
        w.WriteString("type", "TextBlock");
        w.WriteString("text", text);
        w.WriteBoolean("wrap", true);
        if (bold)
        {
            w.WriteString("weight", "Bolder");
            w.WriteString("size", "Medium");
        }

        w.WriteEndObject();
    }

    /// <summary>The PagerDuty Events API v2 <c>event_action</c> for an event: trigger, acknowledge or resolve.</summary>
    public static string PagerDutyAction(string ev) => ev switch
    {
        NotificationEvents.Resolved => "resolve",
        NotificationEvents.Acknowledged => "acknowledge",
        _ => "trigger",
    };

    /// <summary>
    /// PagerDuty Events API v2 (POST /v2/enqueue): the incident id is the <c>dedup_key</c>, so a trigger
    /// sent twice is one alert and the resolve closes it. Acknowledge and resolve carry only the key.
    /// </summary>
    public static byte[] PagerDuty(string routingKey, NotificationMessage m) => Write(w =>
    {
        var action = PagerDutyAction(m.Event);
        w.WriteString("routing_key", routingKey);
        w.WriteString("event_action", action);
        w.WriteString("dedup_key", m.Incident?.Id ?? "medic-test-" + m.DeliveryId);
        if (action != "trigger") return;
        var i = m.Incident;
        w.WriteStartObject("payload");
        var summary = m.Headline["[medic] ".Length..];
        w.WriteString("summary", summary.Length <= 1024 ? summary : summary[..1023] + "…");
        w.WriteString("source", i?.Server ?? i?.Source ?? "medic");
        w.WriteString("severity", i?.Severity switch { "critical" => "critical", "warning" => "warning", _ => "info" });
        w.WriteString("timestamp", (i?.FirstSeenAt ?? m.At).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        if (i is not null)
        {
            w.WriteString("class", i.Type);
            w.WriteStartObject("custom_details");
            foreach (var (name, value) in m.Facts) w.WriteString(name, value);
            if (i.Summary is not null) w.WriteString("summary", i.Summary);
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteString("client", "Medic");
        if (m.Link is not null)
        {
            w.WriteString("client_url", m.Link);
            w.WriteStartArray("links");
            w.WriteStartObject();
            w.WriteString("href", m.Link);
            w.WriteString("text", m.Event == NotificationEvents.ApprovalRequested ? "Review the approval in Medic" : "Open the incident in Medic");
            w.WriteEndObject();
            w.WriteEndArray();
        }
    });

    /// <summary>The generic webhook body: the event, the delivery id, the link and the incident as the API shows it.</summary>
    public static byte[] Webhook(NotificationMessage m) => Write(w =>
    {
        w.WriteString("event", m.Event);
        w.WriteString("delivery_id", m.DeliveryId);
        w.WriteString("sent_at", m.At.ToUniversalTime());
        if (m.Link is null) w.WriteNull("link");
        else w.WriteString("link", m.Link);
        if (m.ApprovalId is null) w.WriteNull("approval_id");
        else w.WriteString("approval_id", m.ApprovalId);
        if (m.Escalation is { Count: > 0 } escalation)
        {
            w.WriteStartObject("escalation");
            foreach (var (key, value) in escalation) w.WriteString(key, value);
            w.WriteEndObject();
        }

        w.WritePropertyName("incident");
        if (m.Incident is null) w.WriteNullValue();
        else JsonSerializer.Serialize(w, m.Incident, MedicJson.Default.IncidentResponse);
    });

    /// <summary><c>sha256=HEX</c>: HMAC-SHA256 under the channel's secret of <c>TIMESTAMP.BODY</c>, the scheme Medic checks on its own inbound webhooks.</summary>
    public static string Signature(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    private static byte[] Write(Action<Utf8JsonWriter> body) => ChannelDelivery.Json(body);
}
