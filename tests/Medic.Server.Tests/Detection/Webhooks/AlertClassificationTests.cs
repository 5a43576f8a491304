using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Detection.Webhooks;

/// <summary>Alerts from webhooks get incident types from their names and labels, and the labels triage rules read.</summary>
public sealed class AlertClassificationTests
{
    private const string Tenant = "default";

    private static async Task<WebhookDeliveryResponse> DeliverAsync(MedicServer server, string source, string json)
    {
        var credentials = await WebhookSender.CredentialsAsync(server.Admin);
        using var request = WebhookSender.Bearer(Tenant, source, Encoding.UTF8.GetBytes(json), credentials.BearerToken);
        using var response = await server.Client().SendAsync(request);
        return await response.ReadAsync(MedicJson.Default.WebhookDeliveryResponse);
    }

    private static async Task<Dictionary<string, IncidentResponse>> IncidentsAsync(MedicServer server, string source)
    {
        using var response = await server.Admin.GetAsync($"/api/v1/incidents?source={source}&limit=100");
        return (await response.ReadAsync(MedicJson.Default.IncidentPage)).Items.ToDictionary(i => i.Fingerprint[(source.Length + 1)..], StringComparer.Ordinal);
    }

    private static string Alert(string fingerprint, string labels, string status = "firing") =>
        $$"""{"status":"{{status}}","labels":{{{labels}}},"annotations":{"summary":"s"},"startsAt":"2026-11-21T12:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"{{fingerprint}}"}""";

    private static string Alertmanager(params string[] alerts) =>
        $$"""{"version":"4","groupKey":"{}:{}","status":"firing","receiver":"medic","alerts":[{{string.Join(",", alerts)}}]}""";

    private static async Task<HttpResponseMessage> PutRuleAsync(MedicServer server, string name, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/webhooks/types/" + name) { Content = new StringContent(json, new MediaTypeHeaderValue("application/json")) };
        return await server.Admin.SendAsync(request);
    }

    [Fact]
    public async Task Node_exporter_blackbox_systemd_and_cadvisor_alerts_get_the_types_and_labels_the_built_in_triage_rules_use()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        var delivery = await DeliverAsync(server, "alertmanager", Alertmanager(
            Alert("disk", "\"alertname\":\"HostOutOfDiskSpace\",\"instance\":\"web-1:9100\",\"mountpoint\":\"/var\",\"device\":\"/dev/sda2\""),
            Alert("fill", "\"alertname\":\"NodeFilesystemSpaceFillingUp\",\"instance\":\"web-1:9100\",\"mountpoint\":\"/srv\""),
            Alert("inodes", "\"alertname\":\"NodeFilesystemAlmostOutOfFiles\",\"instance\":\"web-1:9100\",\"mountpoint\":\"/home\""),
            Alert("unit", "\"alertname\":\"NodeSystemdUnitFailed\",\"instance\":\"web-1:9100\",\"name\":\"nginx.service\",\"state\":\"failed\""),
            Alert("state", "\"alertname\":\"UnitBroken\",\"instance\":\"web-1:9100\",\"name\":\"backup.timer\",\"state\":\"failed\""),
            Alert("probe", "\"alertname\":\"BlackboxProbeFailed\",\"instance\":\"http://web-1:8080/health\",\"job\":\"blackbox\""),
            Alert("tcp", "\"alertname\":\"BlackboxProbeFailed\",\"instance\":\"web-1:5432\",\"job\":\"blackbox-tcp\""),
            Alert("cert", "\"alertname\":\"BlackboxSslCertificateWillExpireSoon\",\"instance\":\"https://shop.example.com\""),
            Alert("up", "\"alertname\":\"TargetDown\",\"instance\":\"web-1:8081\",\"job\":\"api\""),
            Alert("container", "\"alertname\":\"ContainerKilled\",\"instance\":\"web-1:8080\",\"name\":\"redis\",\"image\":\"redis:7\""),
            Alert("cpu", "\"alertname\":\"HostHighCpuLoad\",\"instance\":\"web-1:9100\""),
            Alert("memory", "\"alertname\":\"HostOutOfMemory\",\"instance\":\"web-1:9100\""),
            Alert("forced", "\"alertname\":\"HostOutOfMemory\",\"instance\":\"web-1:9100\",\"medic_type\":\"process_runaway\",\"process\":\"java\""),
            Alert("other", "\"alertname\":\"PrometheusRuleEvaluationFailures\",\"instance\":\"prom:9090\"")));
        delivery.Created.ShouldBe(14);

        var incidents = await IncidentsAsync(server, "alertmanager");
        incidents.ToDictionary(kv => kv.Key, kv => kv.Value.Type).ShouldBe(new Dictionary<string, string>
        {
            ["disk"] = "disk_full", ["fill"] = "disk_full_forecast", ["inodes"] = "inodes_full", ["unit"] = "service_down", ["state"] = "service_down",
            ["probe"] = "endpoint_down", ["tcp"] = "endpoint_down", ["cert"] = "certificate_expiring", ["up"] = "service_down", ["container"] = "container_down",
            ["cpu"] = "cpu_high", ["memory"] = "memory_high", ["forced"] = "process_runaway", ["other"] = "alert",
        }, ignoreOrder: true);

        // The sender's labels stay as they were; the names triage reads are added next to them.
        incidents["disk"].Labels.ShouldBe(new Dictionary<string, string>
        {
            ["alertname"] = "HostOutOfDiskSpace", ["instance"] = "web-1:9100", ["mountpoint"] = "/var", ["device"] = "/dev/sda2", ["mount"] = "/var",
        }, ignoreOrder: true);
        incidents["unit"].Labels["unit"].ShouldBe("nginx.service");
        incidents["state"].Labels["unit"].ShouldBe("backup.timer");
        incidents["probe"].Labels["url"].ShouldBe("http://web-1:8080/health");
        incidents["tcp"].Labels["port"].ShouldBe("5432");
        incidents["up"].Labels["port"].ShouldBe("8081");
        incidents["cert"].Labels["domain"].ShouldBe("shop.example.com");
        incidents["container"].Labels["container"].ShouldBe("redis");
        // node-exporter's instance is the exporter: no port for a disk, unit or CPU alert.
        new[] { "disk", "unit", "cpu" }.ShouldAllBe(k => !incidents[k].Labels.ContainsKey("port"));

        // A resolve folds into the same incident, as before classification.
        var resolved = await DeliverAsync(server, "alertmanager", Alertmanager(
            Alert("disk", "\"alertname\":\"HostOutOfDiskSpace\",\"instance\":\"web-1:9100\",\"mountpoint\":\"/var\",\"device\":\"/dev/sda2\"", "resolved")));
        resolved.Resolved.ShouldBe(1);
        resolved.Incidents.ShouldBe([incidents["disk"].Id]);
    }

    [Fact]
    public async Task Senders_without_an_alertname_are_classified_by_their_title()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        await DeliverAsync(server, "generic", """
            {"alerts":[
              {"fingerprint":"z1","status":"firing","title":"Linux: FS [/var/log]: Space is critically low (used > 90%)","server":"web-1"},
              {"fingerprint":"z2","status":"firing","title":"Linux: High CPU utilization (over 90% for 5m)","server":"web-1"},
              {"fingerprint":"z3","status":"firing","title":"Nightly report was late","server":"web-1"}]}
            """);

        var incidents = await IncidentsAsync(server, "generic");
        (incidents["z1"].Type, incidents["z1"].Labels.GetValueOrDefault("mount")).ShouldBe(("disk_full", "/var/log"));
        incidents["z2"].Type.ShouldBe("cpu_high");
        incidents["z3"].Type.ShouldBe("alert");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_tenants_rules_come_before_the_built_in_ones_and_bad_rules_get_a_400_naming_the_field(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);

        using (var saved = await PutRuleAsync(server, "10-shop", """{"type":"service_down","alertname_regex":"^Shop\\w*Down$","labels":{"team":"shop"}}"""))
        {
            var rule = await saved.ReadAsync(MedicJson.Default.AlertTypeRuleResponse);
            (rule.Name, rule.Rule.Type, rule.BuiltIn).ShouldBe(("10-shop", "service_down", false));
        }

        // Overrides a built-in: this team's disk alerts are only forecasts.
        (await PutRuleAsync(server, "20-batch-disk", """{"type":"disk_full_forecast","alertname":"HostOutOfDiskSpace","labels":{"team":"batch"}}""")).Dispose();

        using (var list = await server.Admin.GetAsync("/api/v1/webhooks/types"))
        {
            var rules = await list.ReadAsync(MedicJson.Default.IReadOnlyListAlertTypeRuleResponse);
            rules.Take(2).Select(r => r.Name).ShouldBe(["10-shop", "20-batch-disk"]);
            rules.Skip(2).ShouldAllBe(r => r.BuiltIn);
            rules.ShouldContain(r => r.Name == "disk-full" && r.Rule.Type == "disk_full" && r.Rule.Alertname!.Contains("HostOutOfDiskSpace"));
        }

        await DeliverAsync(server, "alertmanager", Alertmanager(
            Alert("shop", "\"alertname\":\"ShopCheckoutDown\",\"team\":\"shop\",\"instance\":\"web-1:9000\""),
            Alert("shop-other-team", "\"alertname\":\"ShopCheckoutDown\",\"team\":\"web\""),
            Alert("batch", "\"alertname\":\"HostOutOfDiskSpace\",\"team\":\"batch\",\"mountpoint\":\"/data\"")));
        var incidents = await IncidentsAsync(server, "alertmanager");
        (incidents["shop"].Type, incidents["shop"].Labels.GetValueOrDefault("port")).ShouldBe(("service_down", "9000"));
        incidents["shop-other-team"].Type.ShouldBe("alert");
        (incidents["batch"].Type, incidents["batch"].Labels["mount"]).ShouldBe(("disk_full_forecast", "/data"));

        using (var test = await server.Admin.PostAsync("/api/v1/webhooks/types/test", Json.Raw("""{"alertname":"ShopApiDown","labels":{"team":"shop","instance":"api:8443"}}""")))
        {
            var result = await test.ReadAsync(MedicJson.Default.AlertTypeTestResponse);
            (result.Type, result.Rule, result.DerivedLabels.GetValueOrDefault("port")).ShouldBe(("service_down", "10-shop", "8443"));
        }

        foreach (var (name, body, field) in new[]
        {
            ("bad-regex", """{"type":"service_down","alertname_regex":"(unclosed"}""", "alertname_regex"),
            ("bad-type", """{"type":"Service Down","alertname":"X"}""", "type"),
            ("matches-all", """{"type":"service_down"}""", "rule"),
            ("bad-label", """{"type":"service_down","labels":{"a-b":"x"}}""", "labels"),
            ("bad-source", """{"type":"service_down","source":"nagios!"}""", "source"),
            ("Bad Name", """{"type":"service_down","alertname":"X"}""", "name"),
        })
        {
            using var refused = await PutRuleAsync(server, Uri.EscapeDataString(name), body);
            var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
            (problem["errors"]?.AsObject().ContainsKey(field) ?? false).ShouldBeTrue($"{name}: {problem.ToJsonString()}");
        }

        using (var removed = await server.Admin.DeleteAsync("/api/v1/webhooks/types/10-shop"))
        {
            removed.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using (var missing = await server.Admin.DeleteAsync("/api/v1/webhooks/types/10-shop"))
        {
            await missing.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        }

        await DeliverAsync(server, "alertmanager", Alertmanager(Alert("shop-after", "\"alertname\":\"ShopCheckoutDown\",\"team\":\"shop\"")));
        (await IncidentsAsync(server, "alertmanager"))["shop-after"].Type.ShouldBe("alert");
    }
}
