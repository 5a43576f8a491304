using System.Net;
using System.Text;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Detection.Webhooks;

/// <summary>One incident per problem per target: grouping, severity, server matching, test deliveries and redeliveries.</summary>
public sealed class AlertIdentityTests
{
    private const string Tenant = "default";

    private static async Task<IReadOnlyList<IncidentResponse>> IncidentsAsync(MedicServer server, string source)
    {
        using var response = await server.Admin.GetAsync($"/api/v1/incidents?source={source}&limit=100");
        return (await response.ReadAsync(MedicJson.Default.IncidentPage)).Items;
    }

    private static async Task<WebhookDeliveryResponse> DeliverAsync(MedicServer server, string source, byte[] body)
    {
        var credentials = await WebhookSender.CredentialsAsync(server.Admin);
        using var request = WebhookSender.Bearer(Tenant, source, body, credentials.BearerToken);
        using var response = await server.Client().SendAsync(request);
        return await response.ReadAsync(MedicJson.Default.WebhookDeliveryResponse);
    }

    private static Task<WebhookDeliveryResponse> DeliverAsync(MedicServer server, string source, string json) => DeliverAsync(server, source, Encoding.UTF8.GetBytes(json));

    /// <summary>web-1 by its name, db-primary by the host name its agent reported, cache-7 by an IPv6 address in its facts.</summary>
    private static async Task AddNodesAsync(MedicServer server)
    {
        var tenant = await server.Database.ScalarAsync<string>("SELECT id FROM tenants WHERE slug = 'default'");
        static string Facts(string hostname, params string[] addresses) =>
            $$"""{"hostname":"{{hostname}}","distribution":"Debian 13","kernel":"6.12","architecture":"x86_64","cpus":4,"memory_bytes":8000000000,"disks":[],"addresses":[{{string.Join(",", addresses.Select(a => "\"" + a + "\""))}}],"service_manager":"systemd","agent_version":"1.0","boot_time":"2026-11-01T00:00:00Z"}""";
        await server.Database.ExecuteAsync(
            "INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at, facts) VALUES " +
            "('nod_web', @tenant, 'web-1', '{}', 'online', @at, NULL), " +
            "('nod_db', @tenant, 'db-primary', '{}', 'online', @at, @db), " +
            "('nod_cache', @tenant, 'cache-7', '{}', 'online', @at, @cache)",
            new { tenant, at = DateTimeOffset.UtcNow, db = Facts("db-1.example.com", "10.0.0.20"), cache = Facts("cache-7.example.com", "10.0.0.7", "2001:db8::7") });
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_grouped_Alertmanager_notification_about_three_hosts_opens_one_incident_per_alert_each_with_its_own_labels_severity_summary_and_server(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await AddNodesAsync(server);

        var delivery = await DeliverAsync(server, "alertmanager", Payloads.Bytes("alertmanager-three-hosts.json"));

        (delivery.Alerts, delivery.Created).ShouldBe((3, 3));
        var incidents = (await IncidentsAsync(server, "alertmanager")).OrderBy(i => i.Labels["instance"], StringComparer.Ordinal).ToList();
        incidents.Count.ShouldBe(3);
        incidents.Select(i => (i.Labels["instance"], i.Severity, i.Summary, i.Server, i.Occurrences)).ShouldBe(
        [
            ("10.0.0.9:9100", "critical", "Load on db-1 is 15.9 per core.", "db-primary", 1),
            ("[2001:db8::7]:9100", "info", "Load on the cache is 4.1 per core.", "cache-7", 1),
            ("web-1:9100", "warning", "Load on web-1 is 7.2 per core.", "web-1", 1),
        ]);
        incidents.Select(i => i.Title).ShouldBe(["HostHighLoad: Load very high", "HostHighLoad: Load rising", "HostHighLoad: Load high"]);
        incidents.ShouldAllBe(i => i.GroupKey == "{}:{alertname=\"HostHighLoad\"}");
        incidents.Select(i => i.Fingerprint).ShouldBe(["alertmanager:2d3e4f5a6b7c8d92", "alertmanager:3e4f5a6b7c8d9ea3", "alertmanager:1c2d3e4f5a6b7c81"]);

        // The same notification again (Alertmanager repeats it every repeat_interval) changes no severity and opens nothing.
        var repeat = await DeliverAsync(server, "alertmanager", Payloads.Bytes("alertmanager-three-hosts.json"));
        (repeat.Created, repeat.Updated).ShouldBe((0, 3));
        (await IncidentsAsync(server, "alertmanager")).Select(i => i.Severity).Order().ShouldBe(["critical", "info", "warning"]);
    }

    [Fact]
    public async Task Alerts_are_matched_to_servers_by_name_facts_host_name_facts_addresses_instance_without_port_and_nodename()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        await AddNodesAsync(server);
        static string Alert(string fingerprint, string labels) =>
            $$"""{"status":"firing","labels":{"alertname":"Probe",{{labels}}},"annotations":{},"startsAt":"2026-11-21T12:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"{{fingerprint}}"}""";
        var alerts = string.Join(",",
            Alert("f1", "\"instance\":\"web-1.example.com:9100\""),   // node name, domain and port dropped
            Alert("f2", "\"instance\":\"10.0.0.20:9100\""),           // an IPv4 address from the facts
            Alert("f3", "\"instance\":\"[2001:DB8:0::7]:9100\""),     // an IPv6 address, bracketed with a port, spelled differently
            Alert("f4", "\"instance\":\"10.9.9.9:9100\",\"nodename\":\"db-1\""), // instance unknown, nodename is the short host name
            Alert("f5", "\"instance\":\"db-1.example.com\""),          // the host name from the facts
            Alert("f6", "\"instance\":\"unknown-host:9100\""));
        var delivery = await DeliverAsync(server, "alertmanager", $$"""{"version":"4","groupKey":"{}:{alertname=\"Probe\"}","status":"firing","receiver":"medic","alerts":[{{alerts}}]}""");

        delivery.Created.ShouldBe(6);
        var servers = (await IncidentsAsync(server, "alertmanager")).ToDictionary(i => i.Fingerprint, i => i.Server);
        servers.ShouldBe(new Dictionary<string, string?>
        {
            ["alertmanager:f1"] = "web-1", ["alertmanager:f2"] = "db-primary", ["alertmanager:f3"] = "cache-7",
            ["alertmanager:f4"] = "db-primary", ["alertmanager:f5"] = "db-primary", ["alertmanager:f6"] = null,
        }, ignoreOrder: true);
    }

    [Fact]
    public async Task Severity_rises_while_an_incident_is_open_never_falls_on_a_repeat_and_starts_afresh_when_it_reopens()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        static string Body(string status, string severity) =>
            $$"""{"alerts":[{"fingerprint":"disk-web-1","status":"{{status}}","title":"Disk filling","severity":"{{severity}}","server":"web-1"}]}""";

        await DeliverAsync(server, "generic", Body("firing", "warning"));
        await DeliverAsync(server, "generic", Body("firing", "critical"));
        (await IncidentsAsync(server, "generic")).ShouldHaveSingleItem().Severity.ShouldBe("critical");
        await DeliverAsync(server, "generic", Body("firing", "warning"));
        await DeliverAsync(server, "generic", Body("firing", "info"));
        var open = (await IncidentsAsync(server, "generic")).ShouldHaveSingleItem();
        (open.Severity, open.SignalCount).ShouldBe(("critical", 4));

        using (var detail = await server.Admin.GetAsync($"/api/v1/incidents/{open.Id}"))
        {
            (await detail.ReadAsync(MedicJson.Default.IncidentDetailResponse)).Timeline.Where(e => e.Kind == "severity").Select(e => e.Message).ShouldBe(["severity rose to critical"]);
        }

        await DeliverAsync(server, "generic", Body("resolved", "warning"));
        var reopened = await DeliverAsync(server, "generic", Body("firing", "warning"));
        reopened.Reopened.ShouldBe(1);
        (await IncidentsAsync(server, "generic")).ShouldHaveSingleItem().Severity.ShouldBe("warning");
    }

    [Fact]
    public async Task A_Datadog_TEST_notification_is_recorded_as_a_test_delivery_and_never_touches_the_real_alerts_incident()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var real = await DeliverAsync(server, "datadog", Payloads.Bytes("datadog-suggested-triggered.json"));
        real.Created.ShouldBe(1);

        var test = await DeliverAsync(server, "datadog", Payloads.Bytes("datadog-test-triggered.json"));

        (test.Alerts, test.Created, test.Updated, test.Incidents.Count).ShouldBe((0, 0, 0, 0));
        test.Test.ShouldBe("Datadog test notification: [TEST] [P2] [Triggered on {host:db-1,env:prod}] Replication lag high");
        var incident = (await IncidentsAsync(server, "datadog")).ShouldHaveSingleItem();
        (incident.SignalCount, incident.Labels.ContainsKey("test")).ShouldBe((1, false));
        using var audit = await server.Admin.GetAsync("/api/v1/audit?actor=webhook:datadog");
        (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.Where(e => e.Action == "webhook.deliver" && e.Details!["test"].StartsWith("Datadog test notification", StringComparison.Ordinal)).ShouldHaveSingleItem();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_PagerDuty_redelivery_with_the_same_webhook_event_id_is_counted_once(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var body = Payloads.Bytes("pagerduty-triggered.json");

        var first = await DeliverAsync(server, "pagerduty", body);
        var again = await Task.WhenAll(DeliverAsync(server, "pagerduty", body), DeliverAsync(server, "pagerduty", body));

        first.Created.ShouldBe(1);
        again.ShouldAllBe(d => d.Duplicates == 1 && d.Created == 0 && d.Updated == 0);
        (await IncidentsAsync(server, "pagerduty")).ShouldHaveSingleItem().SignalCount.ShouldBe(1);

        // Another event about the same PagerDuty incident (a reopen, say) is a new delivery and counts.
        var other = await DeliverAsync(server, "pagerduty", Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("01DEN4HPBQAAAG05V5QQYBRZMF", "01DEN4HPBQAAAG05V5QQYBRZMG", StringComparison.Ordinal)));
        other.Updated.ShouldBe(1);
        (await IncidentsAsync(server, "pagerduty")).ShouldHaveSingleItem().SignalCount.ShouldBe(2);
    }
}
