using System.Globalization;
using System.Text.Json;
using Medic.Server.Incidents;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Zabbix's webhook media type as Medic sets it up (docs/webhooks.md): the media type's script posts
/// its parameters as one JSON object of strings, named as Zabbix's own integrations name them:
/// <c>event_id</c> ({EVENT.ID}), <c>event_name</c>, <c>event_value</c> (1 problem, 0 recovery),
/// <c>event_source</c>, <c>event_update_status</c> (1 for an acknowledgement or comment),
/// <c>event_nseverity</c> (0 to 5), <c>event_severity</c>, <c>event_tags</c> ({EVENT.TAGSJSON}),
/// <c>trigger_id</c>, <c>trigger_name</c>, <c>host_host</c>, <c>host_name</c>, <c>host_ip</c>.
/// One trigger on one host is one incident; each problem event is an occurrence in it, and the
/// recovery (which carries the problem's {EVENT.ID}) resolves that occurrence.
/// </summary>
internal sealed class ZabbixAdapter : WebhookAdapter
{
    public override string Source => IncidentSources.Zabbix;

    protected override IReadOnlyList<IncidentSignal> Read(JsonElement root, WebhookContext context)
    {
        string? Field(string name) => PayloadReader.OptionalScalar(root, name, "") is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

        var eventId = Field("event_id") ?? throw new PayloadException("event_id is missing; the media type sends \"event_id\": \"{EVENT.ID}\"");
        // Discovery, autoregistration and service events are not problems on a host; acknowledgements and comments change nothing here.
        if (Field("event_source") is { } source && source != "0") return [];
        if (Field("event_update_status") == "1") return [];

        var value = Field("event_value") ?? throw new PayloadException("event_value is missing; the media type sends \"event_value\": \"{EVENT.VALUE}\" (1 problem, 0 recovery)");
        var resolved = value switch
        {
            "1" => false,
            "0" => true,
            _ => throw new PayloadException($"event_value '{WebhookText.Clean(value, 20)}' is neither 1 (problem) nor 0 (recovery)"),
        };

        var title = Field("event_name") ?? Field("trigger_name")
            ?? throw new PayloadException("neither event_name nor trigger_name is present; the media type sends \"event_name\": \"{EVENT.NAME}\"");
        var host = Field("host_host");
        var visibleName = Field("host_name");
        var ip = Field("host_ip");
        var triggerId = Field("trigger_id");

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, tagValue) in Tags(Field("event_tags")))
        {
            if (labels.Count >= WebhookText.MaxLabels - 8) break;
            labels.TryAdd(key, tagValue);
        }

        if (host is not null) labels["host"] = host;
        if (visibleName is not null) labels["hostname"] = visibleName;
        if (ip is not null) labels["host_ip"] = ip;
        if (triggerId is not null) labels["trigger_id"] = triggerId;
        if (Field("event_severity") is { } severityName) labels["zabbix_severity"] = severityName;

        var evidence = new Dictionary<string, string>(StringComparer.Ordinal) { ["event_id"] = eventId };
        foreach (var name in new[] { "event_recovery_id", "event_opdata", "event_date", "event_time", "trigger_description", "alert_message", "zabbix_url" })
        {
            if (Field(name) is { } text) evidence[name] = text;
        }

        var severity = Field("event_nseverity") switch
        {
            "5" or "4" => Severities.Critical,
            "3" or "2" => Severities.Warning,
            "1" or "0" => Severities.Info,
            null => WebhookText.Severity(Field("event_severity")),
            var n => throw new PayloadException($"event_nseverity '{WebhookText.Clean(n, 20)}' is not 0 to 5 ({{EVENT.NSEVERITY}})"),
        };

        var fingerprint = triggerId is not null ? "trigger:" + triggerId + (host is null ? "" : "|" + host) : "event:" + eventId;
        var summary = Field("trigger_description") ?? Field("event_opdata");
        return [Signal(context, fingerprint, severity, title, summary, host ?? visibleName ?? ip, labels, evidence, resolved, occurrence: "event:" + eventId)];
    }

    /// <summary>The media type's Test button posts the parameters as typed, macros unresolved.</summary>
    protected override string? TestNotification(JsonElement root) =>
        PayloadReader.Member(root, "event_id") is { ValueKind: JsonValueKind.String } id && id.GetString()!.Contains('{', StringComparison.Ordinal)
            ? "Zabbix media type test (macros unresolved: " + id.GetString() + ")"
            : null;

    /// <summary>{EVENT.TAGSJSON}: <c>[{"tag":"service","value":"nginx"}]</c>, as a string; anything else is no tags.</summary>
    private static IEnumerable<KeyValuePair<string, string>> Tags(string? json)
    {
        if (json is null || !json.StartsWith('[')) return [];
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4 });
            var tags = new List<KeyValuePair<string, string>>();
            foreach (var tag in document.RootElement.EnumerateArray())
            {
                if (tag.ValueKind == JsonValueKind.Object && PayloadReader.Member(tag, "tag") is { ValueKind: JsonValueKind.String } name
                    && name.GetString() is { Length: > 0 and <= WebhookText.MaxLabelKey } key)
                {
                    var value = PayloadReader.Member(tag, "value") is { ValueKind: JsonValueKind.String } v ? v.GetString()! : "";
                    tags.Add(new(key, value));
                }
            }

            return tags;
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
