using System.Diagnostics.Metrics;
using Medic.Contracts;
using Medic.Server.Common;

namespace Medic.Server.Detection.Webhooks;

/// <summary>Alert webhook deliveries to a known tenant, by tenant, source and outcome: accepted, or the refusal's reason (docs/metrics.md).</summary>
internal sealed class WebhookMetrics(MedicMeter meter) : IMetricInstruments
{
    private readonly Counter<long> _deliveries = meter.Meter.CreateCounter<long>("medic.webhook.deliveries",
        description: "Alert webhook deliveries by tenant, source and outcome (accepted, or why it was refused: bad_signature, wrong_token, too_large, rate_limited, ...).");

    /// <summary>
    /// Counts one delivery. A name that is no built-in source is kept only when the delivery was
    /// accepted (its mapping exists); refused ones under made-up names count as <c>other</c>, so a
    /// sender cannot grow the series without bound.
    /// </summary>
    public void Delivered(string tenantId, string source, WebhookOutcome outcome) =>
        _deliveries.Add(1, new("tenant_id", tenantId), new("source", SourceLabel(source, outcome)), new("outcome", outcome.ToText()));

    internal static string SourceLabel(string source, WebhookOutcome outcome) =>
        WebhookAdapters.BySource.ContainsKey(source) || outcome == WebhookOutcome.Accepted ? source : "other";
}
