using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Medic.Contracts;
using Medic.Server.Detection.Webhooks;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Detection.Webhooks;

/// <summary>Zabbix, Uptime Kuma and mapped sources: their real payloads in, incidents out, test notifications recorded only.</summary>
public sealed class MoreSendersTests
{
    private const string Tenant = "default";
    private static readonly WebhookContext Context = new("ten_test", new DateTimeOffset(2026, 11, 21, 13, 30, 0, TimeSpan.Zero));

    private static async Task<IReadOnlyList<IncidentResponse>> IncidentsAsync(MedicServer server, string source)
    {
        using var response = await server.Admin.GetAsync($"/api/v1/incidents?source={source}&limit=100");
        return (await response.ReadAsync(MedicJson.Default.IncidentPage)).Items;
    }

    private static async Task<HttpResponseMessage> PostAsync(MedicServer server, string source, byte[] body)
    {
        var credentials = await WebhookSender.CredentialsAsync(server.Admin);
        using var request = WebhookSender.Bearer(Tenant, source, body, credentials.BearerToken);
        return await server.Client().SendAsync(request);
    }

    private static async Task<WebhookDeliveryResponse> DeliverAsync(MedicServer server, string source, byte[] body)
    {
        using var response = await PostAsync(server, source, body);
        return await response.ReadAsync(MedicJson.Default.WebhookDeliveryResponse);
    }

    [Fact]
    public void A_Zabbix_problem_and_its_recovery_are_one_trigger_on_one_host_and_the_media_type_test_is_a_test_delivery()
    {
        var adapter = WebhookAdapters.BySource["zabbix"];
        var problem = adapter.Parse(Payloads.Bytes("zabbix-problem.json"), Context).Signals.ShouldHaveSingleItem();
        var recovery = adapter.Parse(Payloads.Bytes("zabbix-recovery.json"), Context).Signals.ShouldHaveSingleItem();

        (problem.Fingerprint, problem.Occurrence, problem.Resolved, problem.Severity, problem.ServerHint).ShouldBe(("zabbix:trigger:23087|web-1", "event:3871", false, "critical", "web-1"));
        problem.Title.ShouldBe("High CPU utilization (over 90% for 5m)");
        problem.Summary.ShouldBe("CPU utilization is too high. The system might be slow to respond.");
        (problem.Labels["component"], problem.Labels["host_ip"], problem.Labels["hostname"], problem.Labels["zabbix_severity"]).ShouldBe(("cpu", "10.0.0.5", "Web server 1", "High"));
        problem.Evidence!["event_opdata"].ShouldBe("Current utilization: 97.2 %");
        (recovery.Fingerprint, recovery.Occurrence, recovery.Resolved).ShouldBe((problem.Fingerprint, problem.Occurrence, true));
        recovery.Evidence!["event_recovery_id"].ShouldBe("3902");

        var test = adapter.Parse(Payloads.Bytes("zabbix-test.json"), Context);
        (test.Ok, test.Signals.Count, test.Test).ShouldBe((true, 0, "Zabbix media type test (macros unresolved: {EVENT.ID})"));
        var update = adapter.Parse(Encoding.UTF8.GetBytes(Payloads.Text("zabbix-problem.json").Replace("\"event_update_status\":\"0\"", "\"event_update_status\":\"1\"", StringComparison.Ordinal)), Context);
        (update.Ok, update.Signals.Count).ShouldBe((true, 0));
        adapter.Parse(Encoding.UTF8.GetBytes("""{"event_id":"1","event_name":"x","event_value":"2"}"""), Context).Problem.ShouldNotBeNull().ShouldContain("event_value '2'");
    }

    [Fact]
    public void Uptime_Kuma_down_fires_up_resolves_one_monitor_and_its_test_button_is_a_test_delivery()
    {
        var adapter = WebhookAdapters.BySource["uptimekuma"];
        var down = adapter.Parse(Payloads.Bytes("uptimekuma-down.json"), Context).Signals.ShouldHaveSingleItem();
        var up = adapter.Parse(Payloads.Bytes("uptimekuma-up.json"), Context).Signals.ShouldHaveSingleItem();

        (down.Fingerprint, down.Resolved, down.Title, down.Summary, down.ServerHint).ShouldBe(("uptimekuma:monitor:29", false, "Shop front is down", "connect ECONNREFUSED 10.0.0.5:443", "web-1.example.com"));
        (down.Labels["monitor"], down.Labels["monitor_type"], down.Evidence!["url"]).ShouldBe(("Shop front", "http", "https://web-1.example.com/health"));
        (up.Fingerprint, up.Resolved).ShouldBe((down.Fingerprint, true));

        var test = adapter.Parse(Payloads.Bytes("uptimekuma-test.json"), Context);
        (test.Ok, test.Signals.Count, test.Test).ShouldBe((true, 0, "Uptime Kuma test notification: Uptime Kuma Testing, 2026-11-21 13:50:00"));
        var pending = adapter.Parse(Encoding.UTF8.GetBytes(Payloads.Text("uptimekuma-down.json").Replace("\"status\":0", "\"status\":2", StringComparison.Ordinal)), Context);
        (pending.Ok, pending.Signals.Count).ShouldBe((true, 0));
    }

    [Fact]
    public async Task Zabbix_and_Uptime_Kuma_deliveries_open_and_resolve_incidents_over_HTTP()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        (await DeliverAsync(server, "zabbix", Payloads.Bytes("zabbix-problem.json"))).Created.ShouldBe(1);
        (await DeliverAsync(server, "zabbix", Payloads.Bytes("zabbix-recovery.json"))).Resolved.ShouldBe(1);
        (await IncidentsAsync(server, "zabbix")).ShouldHaveSingleItem().Status.ToText().ShouldBe("resolved");

        (await DeliverAsync(server, "uptimekuma", Payloads.Bytes("uptimekuma-test.json"))).Test.ShouldNotBeNull();
        (await IncidentsAsync(server, "uptimekuma")).ShouldBeEmpty();
        (await DeliverAsync(server, "uptimekuma", Payloads.Bytes("uptimekuma-down.json"))).Created.ShouldBe(1);
        (await DeliverAsync(server, "uptimekuma", Payloads.Bytes("uptimekuma-up.json"))).Resolved.ShouldBe(1);
        (await IncidentsAsync(server, "uptimekuma")).ShouldHaveSingleItem().Status.ToText().ShouldBe("resolved");
    }

    private static async Task<HttpResponseMessage> PutMappingAsync(MedicServer server, string name, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/webhooks/mappings/" + name) { Content = new StringContent(json, new MediaTypeHeaderValue("application/json")) };
        return await server.Admin.SendAsync(request);
    }

    [Fact]
    public async Task A_mapped_source_reads_any_senders_JSON_by_paths_and_bad_mappings_get_a_4xx_naming_the_field()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        // A sender Medic has no adapter for: its alerts in a list, with names of its own choosing.
        const string Mapping = """
            {"alerts": "$.events", "title": "$.monitor['friendly name']", "fingerprint": "$.monitor.id", "host": "$.monitor.host",
             "status": "$.alert.type", "resolved_values": ["2"], "severity": "$.alert.level", "severity_map": {"P1": "critical", "P3": "info"},
             "summary": "$.alert.details"}
            """;
        using (var saved = await PutMappingAsync(server, "uptimerobot", Mapping))
        {
            var mapping = await saved.ReadAsync(MedicJson.Default.WebhookMappingResponse);
            mapping.Url.ShouldEndWith("/api/v1/webhooks/alerts/default/uptimerobot");
        }

        const string Firing = """{"events":[{"monitor":{"id":"777","friendly name":"API health","host":"web-1"},"alert":{"type":"1","level":"P1","details":"HTTP 503"}},{"monitor":{"id":"778","friendly name":"Docs"},"alert":{"type":"1","level":"P3"}}]}""";
        var fired = await DeliverAsync(server, "uptimerobot", Encoding.UTF8.GetBytes(Firing));
        (fired.Alerts, fired.Created).ShouldBe((2, 2));
        var incidents = (await IncidentsAsync(server, "uptimerobot")).OrderBy(i => i.Fingerprint, StringComparer.Ordinal).ToList();
        incidents.Select(i => (i.Fingerprint, i.Title, i.Severity, i.Summary, i.Labels.GetValueOrDefault("host"))).ShouldBe(
            [("uptimerobot:777", "API health", "critical", "HTTP 503", "web-1"), ("uptimerobot:778", "Docs", "info", null, null)]);
        (await DeliverAsync(server, "uptimerobot", Encoding.UTF8.GetBytes(Firing.Replace("\"type\":\"1\"", "\"type\":\"2\"", StringComparison.Ordinal))))
            .Resolved.ShouldBe(2);

        using (var noTitle = await PostAsync(server, "uptimerobot", Encoding.UTF8.GetBytes("""{"events":[{"monitor":{"id":"1"}}]}""")))
        {
            (await noTitle.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("the title path $.monitor['friendly name'] finds nothing");
        }

        foreach (var (name, body, field) in new[]
        {
            ("bad-path", """{"title": "monitor.name"}""", "title"),
            ("wildcard", """{"title": "$.alerts[*].name"}""", "title"),
            ("no-title", """{"host": "$.host"}""", "title"),
            ("no-values", """{"title": "$.t", "status": "$.s"}""", "resolved_values"),
            ("bad-map", """{"title": "$.t", "severity": "$.s", "severity_map": {"P1": "urgent"}}""", "severity_map"),
            ("alertmanager", """{"title": "$.t"}""", "name"),
            ("Bad_Name", """{"title": "$.t"}""", "name"),
        })
        {
            using var refused = await PutMappingAsync(server, name, body);
            var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
            // A field the mapping leaves out entirely is refused while reading the body; the detail names it.
            var named = (problem["errors"]?.AsObject().ContainsKey(field) ?? false) || problem.Detail().Contains($"'{field}'", StringComparison.Ordinal);
            named.ShouldBeTrue($"{name}: {problem.ToJsonString()}");
        }

        using (var typo = await PutMappingAsync(server, "typo", """{"title": "$.t", "titel": "$.x"}"""))
        {
            await typo.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        }

        using (var unknown = await PostAsync(server, "nosuchsource", Encoding.UTF8.GetBytes("{}")))
        {
            (await unknown.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("no mapped source of that name");
        }

        using (var removed = await server.Admin.DeleteAsync("/api/v1/webhooks/mappings/uptimerobot"))
        {
            removed.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using (var gone = await PostAsync(server, "uptimerobot", Encoding.UTF8.GetBytes(Firing)))
        {
            await gone.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        }
    }
}
