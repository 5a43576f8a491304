using System.Text.Json;
using Medic.Server.Incidents;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Uptime Kuma's Webhook notification (content type "Preset - application/json"):
/// <c>{"heartbeat": {monitorID, status, time, msg, duration, ...}, "monitor": {id, name, url,
/// hostname, type, ...}, "msg": "[name] [🔴 Down] ..."}</c>. Heartbeat status 0 is down (fires),
/// 1 is up (resolves); pending (2) and maintenance (3) change nothing. One monitor is one incident.
/// Its "Test" button sends only <c>msg</c>, with a null heartbeat and monitor: a test delivery.
/// </summary>
internal sealed class UptimeKumaAdapter : WebhookAdapter
{
    public override string Source => IncidentSources.UptimeKuma;

    protected override IReadOnlyList<IncidentSignal> Read(JsonElement root, WebhookContext context)
    {
        var monitor = PayloadReader.RequiredObject(root, "monitor", "");
        var heartbeat = PayloadReader.RequiredObject(root, "heartbeat", "");
        var status = PayloadReader.OptionalInteger(heartbeat, "status", "heartbeat")
            ?? throw new PayloadException("heartbeat.status is missing; Uptime Kuma sends 0 (down) or 1 (up)");
        bool resolved;
        switch (status)
        {
            case 0:
                resolved = false;
                break;
            case 1:
                resolved = true;
                break;
            case 2 or 3:
                return [];
            default:
                throw new PayloadException($"heartbeat.status {status} is none of 0 (down), 1 (up), 2 (pending), 3 (maintenance)");
        }

        var id = PayloadReader.OptionalScalar(monitor, "id", "monitor") ?? PayloadReader.OptionalScalar(heartbeat, "monitorID", "heartbeat")
            ?? throw new PayloadException("monitor.id is missing");
        var name = PayloadReader.OptionalString(monitor, "name", "monitor") is { Length: > 0 } n ? n.Trim() : "monitor " + id;
        var url = Text(monitor, "url");
        var hostname = Text(monitor, "hostname");
        var type = Text(monitor, "type");
        var beatMessage = Text(heartbeat, "msg");

        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["monitor"] = name, ["monitor_id"] = id };
        if (type is not null) labels["monitor_type"] = type;
        if (hostname is not null) labels["host"] = hostname;

        var evidence = new Dictionary<string, string>(StringComparer.Ordinal) { ["status"] = resolved ? "up" : "down" };
        if (url is not null && url != "https://") evidence["url"] = url;
        if (beatMessage is not null) evidence["heartbeat_msg"] = beatMessage;
        if (PayloadReader.OptionalString(root, "msg", "") is { Length: > 0 } msg) evidence["msg"] = msg;
        foreach (var field in new[] { "time", "localDateTime", "timezone" })
        {
            if (Text(heartbeat, field) is { } value) evidence[field] = value;
        }

        if (PayloadReader.Member(heartbeat, "duration") is { ValueKind: JsonValueKind.Number } duration) evidence["duration_seconds"] = duration.GetRawText();

        var host = hostname ?? (url is not null && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Host.Length > 0 ? uri.Host : null);
        var title = resolved ? $"{name} is up" : $"{name} is down";
        return [Signal(context, "monitor:" + id, Severities.Critical, title, beatMessage, host, labels, evidence, resolved)];
    }

    protected override string? TestNotification(JsonElement root) =>
        PayloadReader.Member(root, "heartbeat") is null && PayloadReader.Member(root, "monitor") is null
            ? "Uptime Kuma test notification: " + (PayloadReader.Member(root, "msg") is { ValueKind: JsonValueKind.String } m ? m.GetString() : "(no message)")
            : null;

    /// <summary>A string or number field as text; Uptime Kuma sends null for fields a monitor type does not use.</summary>
    private static string? Text(JsonElement obj, string name) => PayloadReader.Member(obj, name) switch
    {
        { ValueKind: JsonValueKind.String } s when !string.IsNullOrWhiteSpace(s.GetString()) => s.GetString()!.Trim(),
        { ValueKind: JsonValueKind.Number } number => number.GetRawText(),
        _ => null,
    };
}
