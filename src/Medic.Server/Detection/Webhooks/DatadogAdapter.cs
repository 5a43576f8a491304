using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Medic.Server.Incidents;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Datadog's Webhooks integration. Its default payload carries <c>$ID</c>, <c>$EVENT_TITLE</c>
/// (<c>[Triggered on {host:web-1}] Disk almost full</c>, <c>[Recovered …] …</c>),
/// <c>$EVENT_MSG</c> (markdown between <c>%%%</c> lines), <c>$DATE</c> (epoch milliseconds, as a
/// string), <c>$LAST_UPDATED</c>, <c>$EVENT_TYPE</c> and <c>$ORG_ID</c>/<c>$ORG_NAME</c>; the
/// payload Medic suggests adds <c>$ALERT_ID</c>, <c>$ALERT_TRANSITION</c>, <c>$ALERT_TYPE</c>,
/// <c>$ALERT_PRIORITY</c>, <c>$ALERT_SCOPE</c>, <c>$AGGREG_KEY</c>, <c>$HOSTNAME</c>, <c>$TAGS</c>
/// and a few more (docs/webhooks.md). Every field but the title is optional.
/// </summary>
internal sealed partial class DatadogAdapter : WebhookAdapter
{
    public override string Source => IncidentSources.Datadog;

    [GeneratedRegex(@"^\[(?<word>Re-Triggered|Triggered|Recovered|Re-Warn|Warn|Re-No Data|No Data|Renotify)(?: on \{(?<scope>[^}]*)\})?\]\s*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex TransitionPrefix();

    [GeneratedRegex(@"^\[(?<tag>P[1-5]|TEST)\]\s*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex PriorityPrefix();

    protected override IReadOnlyList<IncidentSignal> Read(JsonElement root, WebhookContext context)
    {
        string? Field(string name) => PayloadReader.OptionalScalar(root, name, "") is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

        var rawTitle = Field("title") ?? Field("alert_title")
            ?? throw new PayloadException("title is missing; the default Datadog payload has \"title\": \"$EVENT_TITLE\"");
        var (title, transition, titleScope, priority, test) = ParseTitle(rawTitle);
        transition = Field("alert_transition") ?? transition
            ?? throw new PayloadException($"cannot tell whether the alert triggered or recovered: the title does not start with [Triggered] or [Recovered] and there is no alert_transition");
        var resolved = transition.ToLowerInvariant() switch
        {
            "recovered" => true,
            "triggered" or "re-triggered" or "warn" or "re-warn" or "no data" or "re-no data" or "renotify" => false,
            _ => throw new PayloadException($"alert_transition '{WebhookText.Clean(transition, 40)}' is none of Triggered, Re-Triggered, Warn, Re-Warn, No Data, Re-No Data, Renotify, Recovered"),
        };

        var scope = Field("alert_scope") ?? titleScope;
        var tags = Tags(Field("tags"));
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            if (labels.Count >= WebhookText.MaxLabels - 8) break;
            labels[key] = value;
        }

        var alertId = Field("alert_id");
        priority = Field("alert_priority") ?? priority;
        if (alertId is not null) labels["monitor_id"] = alertId;
        if (Field("event_type") is { } eventType) labels["event_type"] = eventType;
        if (priority is not null) labels["priority"] = priority;
        if (scope is not null) labels["scope"] = scope;

        var host = Field("hostname") ?? Field("host") ?? HostIn(scope) ?? tags.GetValueOrDefault("host");
        var severity = WebhookText.Severity(Field("alert_type") is "success" ? null : Field("alert_type"))
            ?? WebhookText.Severity(priority)
            ?? (transition.Contains("warn", StringComparison.OrdinalIgnoreCase) || transition.Contains("no data", StringComparison.OrdinalIgnoreCase) ? "warning" : "critical");

        // One problem on one target: the monitor and the scope it fired on (a multi-alert monitor fires
        // per host); without a monitor id the aggregation key, or failing that the title and scope.
        var aggregation = Field("aggreg_key");
        var fingerprint = alertId is not null ? "monitor:" + alertId + (scope is null ? "" : "|" + scope)
            : aggregation is not null ? "agg:" + aggregation + (scope is null ? "" : "|" + scope)
            : "title:" + WebhookText.Digest(title, scope ?? "");

        var evidence = new Dictionary<string, string>(StringComparer.Ordinal) { ["transition"] = transition, ["event_title"] = rawTitle };
        foreach (var name in new[] { "id", "alert_cycle_key", "alert_metric", "alert_query", "alert_status", "link", "event_type", "last_updated" })
        {
            if (Field(name) is { } value) evidence[name] = value;
        }

        if (Field("date") is { } date) evidence["date"] = EpochMilliseconds(date, "date");
        if (PayloadReader.OptionalObject(root, "org", "") is { } org)
        {
            if (PayloadReader.OptionalScalar(org, "id", "org") is { Length: > 0 } orgId) evidence["org_id"] = orgId;
            if (PayloadReader.OptionalScalar(org, "name", "org") is { Length: > 0 } orgName) evidence["org_name"] = orgName;
        }

        return [Signal(context, fingerprint, severity, title.Length > 0 ? title : rawTitle, Markdown(Field("body")), host, labels, evidence, resolved, groupKey: aggregation)];
    }

    /// <summary>
    /// A monitor's "Test Notifications" button sends the real payload with <c>[TEST]</c> in the title:
    /// it must never touch the real alert's incident, so it is recorded as a test delivery only.
    /// </summary>
    protected override string? TestNotification(JsonElement root)
    {
        var title = PayloadReader.Member(root, "title") is { ValueKind: JsonValueKind.String } t ? t.GetString()
            : PayloadReader.Member(root, "alert_title") is { ValueKind: JsonValueKind.String } a ? a.GetString() : null;
        return title is not null && ParseTitle(title).Test ? "Datadog test notification: " + title.Trim() : null;
    }

    /// <summary>Splits <c>[P1] [Triggered on {host:web-1}] Disk almost full</c> into its parts.</summary>
    internal static (string Title, string? Transition, string? Scope, string? Priority, bool Test) ParseTitle(string title)
    {
        string? transition = null, scope = null, priority = null;
        var test = false;
        var rest = title.Trim();
        for (var i = 0; i < 4; i++)
        {
            if (PriorityPrefix().Match(rest) is { Success: true } p)
            {
                var tag = p.Groups["tag"].Value.ToUpperInvariant();
                if (tag == "TEST") test = true;
                else priority = tag;
                rest = rest[p.Length..];
            }
            else if (transition is null && TransitionPrefix().Match(rest) is { Success: true } t)
            {
                transition = t.Groups["word"].Value;
                scope = t.Groups["scope"].Success ? t.Groups["scope"].Value : null;
                rest = rest[t.Length..];
            }
            else
            {
                break;
            }
        }

        return (rest.Trim(), transition, scope, priority, test);
    }

    /// <summary><c>host:web-1</c> within a scope such as <c>host:web-1,env:prod</c>.</summary>
    private static string? HostIn(string? scope) =>
        scope?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(part => part.StartsWith("host:", StringComparison.OrdinalIgnoreCase))
            .Select(part => part["host:".Length..])
            .FirstOrDefault(h => h.Length > 0);

    /// <summary><c>$TAGS</c>: <c>env:prod,role:db,canary</c>.</summary>
    private static Dictionary<string, string> Tags(string? tags)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (tags is null) return map;
        foreach (var tag in tags.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (map.Count >= WebhookText.MaxLabels) break;
            var colon = tag.IndexOf(':', StringComparison.Ordinal);
            var key = colon > 0 ? tag[..colon] : tag;
            if (key.Length <= WebhookText.MaxLabelKey) map.TryAdd(key, colon > 0 ? tag[(colon + 1)..] : "");
        }

        return map;
    }

    private static string EpochMilliseconds(string text, string field) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms is >= 0 and <= 253_402_300_799_999
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("O", CultureInfo.InvariantCulture)
            : throw new PayloadException($"{field} '{WebhookText.Clean(text, 40)}' is not epoch milliseconds (Datadog's $DATE)");

    /// <summary><c>$EVENT_MSG</c> is markdown between <c>%%%</c> lines; the markers are not part of the text.</summary>
    private static string? Markdown(string? body)
    {
        if (body is null) return null;
        var text = body.Trim();
        if (text.StartsWith("%%%", StringComparison.Ordinal)) text = text[3..];
        if (text.EndsWith("%%%", StringComparison.Ordinal)) text = text[..^3];
        text = text.Trim();
        return text.Length == 0 ? null : text;
    }
}
