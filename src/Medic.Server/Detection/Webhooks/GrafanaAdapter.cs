using System.Globalization;
using System.Text.Json;
using Medic.Server.Incidents;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Grafana unified alerting's webhook contact point (payload version 1): Alertmanager's alert list
/// extended with dashboard and panel links and the evaluated <c>values</c>; <c>state</c> is
/// <c>alerting</c> or <c>ok</c> for the group, while each alert's own status decides.
/// </summary>
internal sealed class GrafanaAdapter : WebhookAdapter
{
    public override string Source => IncidentSources.Grafana;

    protected override IReadOnlyList<IncidentSignal> Read(JsonElement root, WebhookContext context)
    {
        if (PayloadReader.Member(root, "alerts") is null && (root.TryGetProperty("evalMatches", out _) || root.TryGetProperty("ruleName", out _)))
        {
            throw new PayloadException("this is legacy Grafana alerting's payload (evalMatches, ruleName); Medic reads unified alerting's webhook contact point");
        }

        var state = PayloadReader.OptionalString(root, "state", "");
        if (state is not null and not "alerting" and not "ok")
        {
            throw new PayloadException($"state '{WebhookText.Clean(state, 40)}' is neither 'alerting' nor 'ok'");
        }

        var groupKey = PayloadReader.OptionalString(root, "groupKey", "");
        var externalUrl = PayloadReader.OptionalString(root, "externalURL", "");
        var truncated = PayloadReader.OptionalInteger(root, "truncatedAlerts", "") ?? 0;
        _ = PayloadReader.OptionalScalar(root, "orgId", "");

        var alerts = PayloadReader.RequiredArray(root, "alerts", "");
        var signals = new List<IncidentSignal>(alerts.GetArrayLength());
        var index = 0;
        foreach (var element in alerts.EnumerateArray())
        {
            var path = $"alerts[{index++}]";
            var alert = PrometheusStyleAlert.Read(element, path);
            var evidence = alert.Evidence();
            foreach (var link in new[] { "dashboardURL", "panelURL", "silenceURL", "imageURL" })
            {
                if (PayloadReader.OptionalString(element, link, path) is { Length: > 0 } url)
                {
                    evidence[link switch { "dashboardURL" => "dashboard_url", "panelURL" => "panel_url", "silenceURL" => "silence_url", _ => "image_url" }] = url;
                }
            }

            if (PayloadReader.OptionalString(element, "valueString", path) is { Length: > 0 } valueString) evidence["value_string"] = valueString;
            if (Values(element, path) is { Length: > 0 } values) evidence["values"] = values;
            if (!string.IsNullOrEmpty(groupKey)) evidence["group_key"] = groupKey;
            if (!string.IsNullOrEmpty(externalUrl)) evidence["external_url"] = externalUrl;
            if (truncated > 0) evidence["group_truncated_alerts"] = truncated.ToString(CultureInfo.InvariantCulture);
            // Each alert is its own problem on its own target; the group only says how the sender batched them.
            signals.Add(Signal(context, alert.Fingerprint, alert.Severity, alert.Title("Grafana alert"), alert.Summary,
                WebhookText.ServerHint(alert.Labels), alert.Labels, evidence, alert.Resolved, groupKey: groupKey));
        }

        return signals;
    }

    /// <summary>The evaluated expressions, <c>A=87.3, B=1</c>, in name order.</summary>
    private static string? Values(JsonElement alert, string path)
    {
        if (PayloadReader.OptionalObject(alert, "values", path) is not { } values) return null;
        var parts = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in values.EnumerateObject())
        {
            if (parts.Count >= WebhookText.MaxLabels) break;
            parts[property.Name] = property.Value.ValueKind switch
            {
                JsonValueKind.Number or JsonValueKind.String => property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText(),
                JsonValueKind.Null => "null",
                _ => throw new PayloadException($"{path}.values.{WebhookText.Clean(property.Name, 100)} must be a number, not a {PayloadReader.Kind(property.Value)}"),
            };
        }

        return string.Join(", ", parts.Select(kv => kv.Key + "=" + kv.Value));
    }
}
