using Medic.Contracts;
using Medic.Server.Incidents;

namespace Medic.Server.Detection.Webhooks;

/// <summary>Each sender's configuration with the tenant's URL and credentials filled in, ready to paste.</summary>
internal static class WebhookSetup
{
    public static string Url(string baseUrl, string tenantSlug, string source) =>
        $"{baseUrl.TrimEnd('/')}/api/v1/webhooks/alerts/{Uri.EscapeDataString(tenantSlug)}/{source}";

    public static IReadOnlyList<WebhookSourceResponse> Sources(string baseUrl, string tenantSlug, string secret, string token) =>
        IncidentSources.Webhook.Select(source =>
        {
            var url = Url(baseUrl, tenantSlug, source);
            return source switch
            {
                IncidentSources.Alertmanager => new WebhookSourceResponse(source, url, "bearer token", Alertmanager(url, token)),
                IncidentSources.Grafana => new WebhookSourceResponse(source, url, "X-Grafana-Alerting-Signature (HMAC-SHA256 with the secret)", Grafana(url, secret)),
                IncidentSources.Datadog => new WebhookSourceResponse(source, url, "bearer token (custom header)", Datadog(url, token)),
                IncidentSources.PagerDuty => new WebhookSourceResponse(source, url, "PagerDuty's signature (after 'medic webhooks set-secret pagerduty') or bearer token (custom header)", PagerDuty(url, token)),
                IncidentSources.Zabbix => new WebhookSourceResponse(source, url, "bearer token (set by the media type's script)", Zabbix(url, token)),
                IncidentSources.UptimeKuma => new WebhookSourceResponse(source, url, "bearer token (additional header)", UptimeKuma(url, token)),
                _ => new WebhookSourceResponse(source, url, "X-Medic-Signature (HMAC-SHA256 with the secret) or bearer token", Generic(url, secret)),
            };
        }).ToList();

    private static string Alertmanager(string url, string token) => $"""
        # alertmanager.yml: add the receiver, then route alerts to it (route: receiver: medic).
        receivers:
          - name: medic
            webhook_configs:
              - url: {url}
                send_resolved: true
                http_config:
                  authorization:
                    type: Bearer
                    credentials: {token}
        """;

    private static string Grafana(string url, string secret) => $"""
        # Grafana 12+: a provisioning file such as provisioning/alerting/medic.yaml (or the same
        # settings in Alerting > Contact points > Webhook > Optional settings > HMAC signature).
        apiVersion: 1
        contactPoints:
          - orgId: 1
            name: medic
            receivers:
              - uid: medic-webhook
                type: webhook
                settings:
                  url: {url}
                  httpMethod: POST
                  hmacConfig:
                    secret: {secret}
                    header: X-Grafana-Alerting-Signature
                    timestampHeader: X-Grafana-Alerting-Signature-Timestamp
        """;

    private static string Datadog(string url, string token) => $$"""
        # Datadog: Integrations > Webhooks > New. Name: medic (monitors notify @webhook-medic).
        # URL:
        {{url}}
        # Custom Headers:
        {"Authorization": "Bearer {{token}}"}
        # Payload (the default fields plus the ones Medic uses to deduplicate and match servers):
        {
          "id": "$ID",
          "title": "$EVENT_TITLE",
          "body": "$EVENT_MSG",
          "date": "$DATE",
          "last_updated": "$LAST_UPDATED",
          "event_type": "$EVENT_TYPE",
          "org": {"id": "$ORG_ID", "name": "$ORG_NAME"},
          "alert_id": "$ALERT_ID",
          "alert_transition": "$ALERT_TRANSITION",
          "alert_type": "$ALERT_TYPE",
          "alert_priority": "$ALERT_PRIORITY",
          "alert_scope": "$ALERT_SCOPE",
          "aggreg_key": "$AGGREG_KEY",
          "alert_cycle_key": "$ALERT_CYCLE_KEY",
          "hostname": "$HOSTNAME",
          "tags": "$TAGS",
          "link": "$LINK"
        }
        """;

    private static string PagerDuty(string url, string token) => $$$"""
        # PagerDuty: a V3 webhook subscription (Integrations > Generic Webhooks (v3), or the REST API).
        # PagerDuty signs with a secret it generates and shows once; give it to Medic so the signatures verify:
        #   printf '%s' "$PAGERDUTY_WEBHOOK_SECRET" | medic webhooks set-secret pagerduty
        # The bearer token as a custom header (below) works as well.
        curl -sS https://api.pagerduty.com/webhook_subscriptions \
          -H "Authorization: Token token=$PAGERDUTY_API_KEY" \
          -H "Accept: application/vnd.pagerduty+json;version=2" -H "Content-Type: application/json" \
          -d '{"webhook_subscription": {"type": "webhook_subscription",
                "delivery_method": {"type": "http_delivery_method", "url": "{{{url}}}",
                  "custom_headers": [{"name": "Authorization", "value": "Bearer {{{token}}}"}]},
                "events": ["incident.triggered", "incident.reopened", "incident.resolved"],
                "filter": {"type": "account_reference"} }}'
        """;

    private static string Zabbix(string url, string token) => $$"""
        # Zabbix 6.0+: Alerts > Media types > Create media type, Type: Webhook, with these parameters
        # (name = value), then this script; add the media type to a user and to a trigger action's
        # problem and recovery operations.
        #   medic_url = {{url}}
        #   medic_token = {{token}}
        #   event_id = {EVENT.ID}            event_name = {EVENT.NAME}
        #   event_value = {EVENT.VALUE}      event_source = {EVENT.SOURCE}
        #   event_update_status = {EVENT.UPDATE.STATUS}
        #   event_nseverity = {EVENT.NSEVERITY}   event_severity = {EVENT.SEVERITY}
        #   event_tags = {EVENT.TAGSJSON}    event_opdata = {EVENT.OPDATA}
        #   event_recovery_id = {EVENT.RECOVERY.ID}
        #   trigger_id = {TRIGGER.ID}        trigger_name = {TRIGGER.NAME}
        #   trigger_description = {TRIGGER.DESCRIPTION}
        #   host_host = {HOST.HOST}          host_name = {HOST.NAME}      host_ip = {HOST.IP}
        var params = JSON.parse(value);
        var url = params.medic_url, token = params.medic_token;
        delete params.medic_url;
        delete params.medic_token;
        var request = new HttpRequest();
        request.addHeader('Content-Type: application/json');
        request.addHeader('Authorization: Bearer ' + token);
        var response = request.post(url, JSON.stringify(params));
        if (request.getStatus() !== 200) {
            throw 'Medic answered ' + request.getStatus() + ': ' + response;
        }
        return 'OK';
        """;

    private static string UptimeKuma(string url, string token) => $$"""
        # Uptime Kuma: Settings > Notifications > Setup Notification, Notification Type: Webhook.
        # Post URL:
        {{url}}
        # Request Body: Preset - application/json
        # Additional Headers:
        {"Authorization": "Bearer {{token}}"}
        """;

    private static string Generic(string url, string secret) => $$"""
        # Any script: sign TIMESTAMP.BODY with the secret (docs/webhooks.md has the format).
        body='{"alerts":[{"fingerprint":"disk-full-web-1","status":"firing","title":"Disk almost full","severity":"critical","server":"web-1"}]}'
        ts=$(date +%s)
        sig=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac '{{secret}}' -r | cut -d' ' -f1)
        curl -sS {{url}} -H 'Content-Type: application/json' \
          -H "X-Medic-Timestamp: $ts" -H "X-Medic-Signature: sha256=$sig" --data-binary "$body"
        """;
}
