using System.Net;
using System.Text;
using Medic.Contracts;
using Medic.Server.Incidents;
using Medic.Server.Silences;
using Medic.Server.Tests.Detection.Webhooks;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Silences;

/// <summary>Silences as Alertmanager users expect them: the signal is recorded, nobody is paged and nothing is remediated.</summary>
public sealed class SilencesTests
{
    private const string Tenant = "default";

    private static byte[] Generic(string fingerprint, string status, string team, string instance) => Encoding.UTF8.GetBytes(
        $$$"""{"alerts":[{"fingerprint":"{{{fingerprint}}}","status":"{{{status}}}","title":"Disk almost full on {{{instance}}}","severity":"critical","labels":{"alertname":"HighDiskUsage","team":"{{{team}}}","instance":"{{{instance}}}"}}]}""");

    private static async Task<WebhookDeliveryResponse> DeliverAsync(MedicServer server, string token, byte[] body)
    {
        using var request = WebhookSender.Bearer(Tenant, "generic", body, token);
        using var response = await server.Client().SendAsync(request);
        return await response.ReadAsync(MedicJson.Default.WebhookDeliveryResponse);
    }

    private static async Task<SilenceResponse> SilenceAsync(HttpClient client, string json)
    {
        using var response = await client.PostAsync("/api/v1/silences", Json.Raw(json));
        return await response.ReadAsync(MedicJson.Default.SilenceResponse, HttpStatusCode.Created);
    }

    private static Task<long> PlannedNotificationsAsync(MedicServer server, string incidentId) =>
        server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM notification_deliveries WHERE incident_id = @incidentId", new { incidentId });

    private static Task<long> PipelineJobsAsync(MedicServer server, string incidentId) =>
        server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM jobs WHERE idempotency_key LIKE @key", new { key = $"pipeline:{incidentId}:%" });

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_silenced_alert_is_recorded_on_its_incident_but_starts_no_pipeline_and_notifies_nobody_until_the_silence_ends(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var c = await WebhookSender.CredentialsAsync(server.Admin);
        using (var channel = await server.Admin.PostAsync("/api/v1/notification-channels", Json.Raw("""{"name":"hook","kind":"webhook","url":"http://127.0.0.1:9/hook"}""")))
        {
            channel.StatusCode.ShouldBe(HttpStatusCode.Created, await channel.Content.ReadAsStringAsync());
        }

        using (var rule = await server.Admin.PostAsync("/api/v1/notification-rules", Json.Raw("""{"name":"everything","channels":["hook"],"min_severity":"info"}""")))
        {
            rule.StatusCode.ShouldBe(HttpStatusCode.Created, await rule.Content.ReadAsStringAsync());
        }

        var silence = await SilenceAsync(server.Admin,
            """{"matchers":[{"name":"alertname","op":"=","value":"HighDiskUsage"},{"name":"instance","op":"=~","value":"web-.*"}],"comment":"resizing the web disks","duration":"2h"}""");
        (silence.State, silence.CreatedBy).ShouldBe((SilenceState.Active, "user:admin"));

        var silenced = await DeliverAsync(server, c.BearerToken, Generic("disk-web-1", "firing", "shop", "web-1:9100"));
        var loud = await DeliverAsync(server, c.BearerToken, Generic("disk-db-1", "firing", "shop", "db-1:9100"));
        var silencedId = silenced.Incidents.ShouldHaveSingleItem();
        var loudId = loud.Incidents.ShouldHaveSingleItem();
        silenced.Created.ShouldBe(1, "a silenced signal is still recorded");

        // The control: an alert no silence matches is notified and handed to the pipeline.
        (await PlannedNotificationsAsync(server, loudId)).ShouldBeGreaterThan(0);
        (await PipelineJobsAsync(server, loudId)).ShouldBeGreaterThan(0);
        (await PlannedNotificationsAsync(server, silencedId)).ShouldBe(0);
        (await PipelineJobsAsync(server, silencedId)).ShouldBe(0);

        using (var detail = await server.Admin.GetAsync($"/api/v1/incidents/{silencedId}"))
        {
            var incident = await detail.ReadAsync(MedicJson.Default.IncidentDetailResponse);
            incident.Incident.Status.ToText().ShouldBe("open");
            var note = incident.Timeline.Where(e => e.Kind == "silenced").ShouldHaveSingleItem();
            note.Message.ShouldContain(silence.Id);
            note.Message.ShouldContain("resizing the web disks");
        }

        // Repeats under the same silence stay quiet and are said once on the timeline.
        await DeliverAsync(server, c.BearerToken, Generic("disk-web-1", "firing", "shop", "web-1:9100"));
        (await PlannedNotificationsAsync(server, silencedId)).ShouldBe(0);
        using (var detail = await server.Admin.GetAsync($"/api/v1/incidents/{silencedId}"))
        {
            (await detail.ReadAsync(MedicJson.Default.IncidentDetailResponse)).Timeline.Count(e => e.Kind == "silenced").ShouldBe(1);
        }

        // An agent's signal with matching labels is silenced the same way.
        var agentSilence = await SilenceAsync(server.Admin, """{"matchers":[{"name":"monitor","op":"=","value":"nginx"}],"comment":"nginx upgrade","duration":"30m"}""");
        var tenantId = await server.Database.ScalarAsync<string>("SELECT id FROM tenants WHERE slug = 'default'");
        var agent = (await server.Service<IIncidentIngest>().IngestAsync(
        [
            new IncidentSignal(tenantId, IncidentSources.Agent, "agent:node-x:nginx", "service_down", Severities.Critical, "nginx is down", null, null, null,
                new Dictionary<string, string> { ["monitor"] = "nginx" }, null, false, DateTimeOffset.UtcNow, "agent:node-x"),
        ], CancellationToken.None)).ShouldHaveSingleItem();
        agent.SilencedBy.ShouldBe(agentSilence.Id);
        (await PipelineJobsAsync(server, agent.IncidentId!)).ShouldBe(0);

        // Once the silence ends, the next signal hands the incident to the pipeline and tells people.
        using (var expire = await server.Admin.PostAsync($"/api/v1/silences/{silence.Id}/expire", Json.Raw("{}")))
        {
            (await expire.ReadAsync(MedicJson.Default.SilenceResponse)).State.ShouldBe(SilenceState.Expired);
        }

        await DeliverAsync(server, c.BearerToken, Generic("disk-web-1", "firing", "shop", "web-1:9100"));
        (await PlannedNotificationsAsync(server, silencedId)).ShouldBeGreaterThan(0);
        (await PipelineJobsAsync(server, silencedId)).ShouldBeGreaterThan(0);

        using var audit = await server.Admin.GetAsync("/api/v1/audit?actor=user:admin&limit=500");
        (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.Where(e => e.Target == "silence:" + silence.Id).Select(e => e.Action).Order().ShouldBe(["silence.create", "silence.expire"]);
    }

    [Fact]
    public async Task A_resolve_of_an_incident_nobody_was_told_of_tells_nobody()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var c = await WebhookSender.CredentialsAsync(server.Admin);
        (await server.Admin.PostAsync("/api/v1/notification-channels", Json.Raw("""{"name":"hook","kind":"webhook","url":"http://127.0.0.1:9/hook"}"""))).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await server.Admin.PostAsync("/api/v1/notification-rules", Json.Raw("""{"name":"everything","channels":["hook"],"min_severity":"info"}"""))).StatusCode.ShouldBe(HttpStatusCode.Created);
        var silence = await SilenceAsync(server.Admin, """{"matchers":[{"name":"team","op":"!=","value":"payments"},{"name":"alertname","op":"=","value":"HighDiskUsage"}],"comment":"noisy","duration":"1h"}""");

        var fired = await DeliverAsync(server, c.BearerToken, Generic("disk-web-2", "firing", "shop", "web-2:9100"));
        using (await server.Admin.PostAsync($"/api/v1/silences/{silence.Id}/expire", Json.Raw("{}")))
        {
        }

        var resolved = await DeliverAsync(server, c.BearerToken, Generic("disk-web-2", "resolved", "shop", "web-2:9100"));
        resolved.Resolved.ShouldBe(1);
        (await PlannedNotificationsAsync(server, fired.Incidents[0])).ShouldBe(0);
    }

    [Fact]
    public static void Matchers_follow_Alertmanagers_rules()
    {
        var labels = new Dictionary<string, string> { ["alertname"] = "HighDiskUsage", ["instance"] = "web-1:9100" };
        static SilenceMatcher M(string name, string op, string value) => new(name, op, value);

        SilenceMatcherRules.Matches([M("alertname", "=", "HighDiskUsage")], labels).ShouldBeTrue();
        SilenceMatcherRules.Matches([M("alertname", "=", "highdiskusage")], labels).ShouldBeFalse();
        SilenceMatcherRules.Matches([M("alertname", "!=", "HighDiskUsage")], labels).ShouldBeFalse();
        SilenceMatcherRules.Matches([M("instance", "=~", "web-.*")], labels).ShouldBeTrue();
        SilenceMatcherRules.Matches([M("instance", "=~", "web")], labels).ShouldBeFalse("regular expressions are anchored at both ends");
        SilenceMatcherRules.Matches([M("instance", "!~", "db-.*")], labels).ShouldBeTrue();
        SilenceMatcherRules.Matches([M("team", "=", "")], labels).ShouldBeTrue("a missing label has the empty value");
        SilenceMatcherRules.Matches([M("team", "!=", "")], labels).ShouldBeFalse();
        SilenceMatcherRules.Matches([M("alertname", "=", "HighDiskUsage"), M("instance", "=~", "db-.*")], labels).ShouldBeFalse("every matcher must match");
        SilenceMatcherRules.Matches([], labels).ShouldBeFalse();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Silences_are_validated_listed_by_state_expired_once_and_created_only_by_operators(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);

        async Task<string> InvalidAsync(string json)
        {
            using var response = await server.Admin.PostAsync("/api/v1/silences", Json.Raw(json));
            return (await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail();
        }

        (await InvalidAsync("""{"matchers":[],"comment":"x","duration":"1h"}""")).ShouldContain("matchers");
        (await InvalidAsync("""{"matchers":[{"name":"a","op":"==","value":"b"}],"comment":"x","duration":"1h"}""")).ShouldContain("matchers[0].op");
        (await InvalidAsync("""{"matchers":[{"name":"a","op":"=~","value":"("}],"comment":"x","duration":"1h"}""")).ShouldContain("not a valid regular expression");
        (await InvalidAsync("""{"matchers":[{"name":"a","op":"=~","value":".*"}],"comment":"x","duration":"1h"}""")).ShouldContain("empty value");
        (await InvalidAsync("""{"matchers":[{"name":"a","op":"=","value":"b"}],"comment":"","duration":"1h"}""")).ShouldContain("comment");
        (await InvalidAsync("""{"matchers":[{"name":"a","op":"=","value":"b"}],"comment":"x"}""")).ShouldContain("duration");
        (await InvalidAsync("""{"matchers":[{"name":"a","op":"=","value":"b"}],"comment":"x","ends_at":"2001-01-01T00:00:00Z"}""")).ShouldContain("future");

        var active = await SilenceAsync(server.Admin, """{"matchers":[{"name":"a","op":"=","value":"b"}],"comment":"now","duration":"1h"}""");
        var later = DateTimeOffset.UtcNow.AddDays(1);
        var pending = await SilenceAsync(server.Admin, $$"""{"matchers":[{"name":"a","op":"=","value":"c"}],"comment":"tomorrow","starts_at":"{{later:O}}","ends_at":"{{later.AddHours(2):O}}"}""");
        pending.State.ShouldBe(SilenceState.Pending);

        using (var expire = await server.Admin.PostAsync($"/api/v1/silences/{active.Id}/expire", Json.Raw("{}")))
        {
            expire.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var again = await server.Admin.PostAsync($"/api/v1/silences/{active.Id}/expire", Json.Raw("{}")))
        {
            (await again.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("already ended");
        }

        async Task<IReadOnlyList<SilenceResponse>> ListAsync(HttpClient client, string query)
        {
            using var response = await client.GetAsync("/api/v1/silences" + query);
            return await response.ReadAsync(MedicJson.Default.IReadOnlyListSilenceResponse);
        }

        (await ListAsync(server.Admin, "")).Select(s => s.Id).ShouldBe([pending.Id, active.Id]);
        (await ListAsync(server.Admin, "?state=expired")).ShouldHaveSingleItem().ExpiredBy.ShouldBe("user:admin");
        (await ListAsync(server.Admin, "?state=pending")).ShouldHaveSingleItem().Id.ShouldBe(pending.Id);
        (await ListAsync(server.Admin, "?state=active")).ShouldBeEmpty();

        var viewer = await server.ClientForNewUserAsync(server.Admin, "vic", Role.Viewer);
        (await ListAsync(viewer, "")).Count.ShouldBe(2);
        using var refused = await viewer.PostAsync("/api/v1/silences", Json.Raw("""{"matchers":[{"name":"a","op":"=","value":"b"}],"comment":"x","duration":"1h"}"""));
        await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        using var missing = await server.Admin.GetAsync("/api/v1/silences/sil_nope");
        await missing.ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }
}
