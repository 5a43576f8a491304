namespace Medic.Server.Detection.Webhooks;

/// <summary>The adapters by the source name in the webhook URL.</summary>
internal static class WebhookAdapters
{
    public static readonly IReadOnlyDictionary<string, WebhookAdapter> BySource = new WebhookAdapter[]
    {
        new AlertmanagerAdapter(), new GrafanaAdapter(), new DatadogAdapter(), new PagerDutyAdapter(), new ZabbixAdapter(), new UptimeKumaAdapter(), new GenericAdapter(),
    }.ToDictionary(a => a.Source, StringComparer.Ordinal);

    public static IReadOnlyList<string> Sources => Incidents.IncidentSources.Webhook;
}
