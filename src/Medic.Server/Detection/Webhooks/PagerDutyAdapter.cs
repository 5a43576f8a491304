using System.Text.Json;
using Medic.Server.Incidents;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// PagerDuty's V3 webhook subscriptions: <c>{"event": {"event_type": "incident.triggered", "data":
/// {incident}}}</c>. An incident triggering (or reopening) fires, resolving resolves; every other
/// event a subscription may carry (acknowledged, annotated, <c>pagey.ping</c>, …) is accepted and
/// changes nothing. The PagerDuty incident id is the fingerprint; the webhook event id (<c>event.id</c>)
/// makes a redelivery of the same event a no-op.
/// </summary>
internal sealed class PagerDutyAdapter : WebhookAdapter
{
    public override string Source => IncidentSources.PagerDuty;

    protected override IReadOnlyList<IncidentSignal> Read(JsonElement root, WebhookContext context)
    {
        var e = PayloadReader.RequiredObject(root, "event", "");
        var eventType = PayloadReader.RequiredString(e, "event_type", "event");
        bool resolved;
        switch (eventType)
        {
            case "incident.triggered" or "incident.reopened":
                resolved = false;
                break;
            case "incident.resolved":
                resolved = true;
                break;
            default:
                _ = PayloadReader.OptionalObject(e, "data", "event");
                return [];
        }

        var data = PayloadReader.RequiredObject(e, "data", "event");
        var id = PayloadReader.RequiredString(data, "id", "event.data");
        var number = PayloadReader.OptionalScalar(data, "number", "event.data");
        var title = PayloadReader.OptionalString(data, "title", "event.data") is { Length: > 0 } t ? t : $"PagerDuty incident {number ?? id}";
        var urgency = PayloadReader.OptionalString(data, "urgency", "event.data");
        var priority = PayloadReader.OptionalObject(data, "priority", "event.data") is { } p ? PayloadReader.OptionalString(p, "summary", "event.data.priority") : null;
        var service = PayloadReader.OptionalObject(data, "service", "event.data") is { } s ? PayloadReader.OptionalString(s, "summary", "event.data.service") : null;
        var agent = PayloadReader.OptionalObject(e, "agent", "event") is { } a ? PayloadReader.OptionalString(a, "summary", "event.agent") : null;

        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["pagerduty_incident"] = id };
        if (service is not null) labels["service"] = service;
        if (urgency is not null) labels["urgency"] = urgency;
        if (priority is not null) labels["priority"] = priority;

        var evidence = new Dictionary<string, string>(StringComparer.Ordinal) { ["event_type"] = eventType };
        var eventId = PayloadReader.OptionalString(e, "id", "event");
        if (eventId is not null) evidence["event_id"] = eventId;
        if (PayloadReader.OptionalString(e, "occurred_at", "event") is { } occurred) evidence["occurred_at"] = occurred;
        if (agent is not null) evidence["agent"] = agent;
        if (number is not null) evidence["number"] = number;
        foreach (var name in new[] { "html_url", "incident_key", "status", "resolve_reason" })
        {
            if (PayloadReader.Member(data, name) is { ValueKind: JsonValueKind.String } value && value.GetString() is { Length: > 0 } text) evidence[name] = text;
        }

        var severity = urgency switch
        {
            "high" => "critical",
            "low" => "warning",
            _ => WebhookText.Severity(priority),
        };
        var summary = service is null ? null : $"PagerDuty incident {(number is null ? id : "#" + number)} on service {service}";
        // PagerDuty redelivers an event it could not confirm with the same event id: that id makes a redelivery count once.
        return [Signal(context, id, severity, title, summary, null, labels, evidence, resolved, deliveryId: eventId)];
    }
}
