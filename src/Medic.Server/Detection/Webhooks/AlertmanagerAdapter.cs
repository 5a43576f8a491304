using System.Globalization;
using System.Text.Json;
using Medic.Server.Incidents;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Prometheus Alertmanager's webhook, version 4: one delivery per alert group, each alert firing
/// or resolved on its own. Each alert, identified by Alertmanager's fingerprint of its label set, is
/// its own incident; the group (<c>groupKey</c>) is kept on each so notifications can be grouped.
/// <c>truncatedAlerts</c> (alerts left out by <c>max_alerts</c>) is recorded as evidence; fields a
/// newer Alertmanager adds (<c>notification_reason</c>, say) are ignored.
/// </summary>
internal sealed class AlertmanagerAdapter : WebhookAdapter
{
    public override string Source => IncidentSources.Alertmanager;

    protected override IReadOnlyList<IncidentSignal> Read(JsonElement root, WebhookContext context)
    {
        var version = PayloadReader.OptionalScalar(root, "version", "");
        if (version != "4")
        {
            throw new PayloadException(version switch
            {
                null => "version is missing; Alertmanager's webhook sends version \"4\"",
                "1" => "version \"1\" is Grafana's webhook, not Alertmanager's version 4; point the Grafana contact point at the .../grafana URL",
                _ => $"version \"{WebhookText.Clean(version, 20)}\" is not Alertmanager's webhook version 4",
            });
        }

        var groupKey = PayloadReader.OptionalString(root, "groupKey", "");
        var receiver = PayloadReader.OptionalString(root, "receiver", "");
        var externalUrl = PayloadReader.OptionalString(root, "externalURL", "");
        _ = PayloadReader.OptionalString(root, "status", "");
        var truncated = PayloadReader.OptionalInteger(root, "truncatedAlerts", "") ?? 0;
        if (truncated < 0) throw new PayloadException("truncatedAlerts is negative");

        var alerts = PayloadReader.RequiredArray(root, "alerts", "");
        var signals = new List<IncidentSignal>(alerts.GetArrayLength());
        var index = 0;
        foreach (var element in alerts.EnumerateArray())
        {
            var alert = PrometheusStyleAlert.Read(element, $"alerts[{index++}]");
            var evidence = alert.Evidence();
            if (!string.IsNullOrEmpty(groupKey)) evidence["group_key"] = groupKey;
            if (!string.IsNullOrEmpty(receiver)) evidence["receiver"] = receiver;
            if (!string.IsNullOrEmpty(externalUrl)) evidence["external_url"] = externalUrl;
            if (truncated > 0) evidence["group_truncated_alerts"] = truncated.ToString(CultureInfo.InvariantCulture);
            // Each alert is its own problem on its own target; the group only says how the sender batched them.
            signals.Add(Signal(context, alert.Fingerprint, alert.Severity, alert.Title("Alertmanager alert"), alert.Summary,
                WebhookText.ServerHint(alert.Labels), alert.Labels, evidence, alert.Resolved, groupKey: groupKey));
        }

        return signals;
    }
}
