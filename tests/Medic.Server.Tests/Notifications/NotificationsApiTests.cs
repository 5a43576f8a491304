using System.Net;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Notifications;

/// <summary>The notifications API as an admin or the CLI uses it: channels with write-only secrets, rules, a test send, the delivery log; incidents reach receivers through the live feed.</summary>
public sealed class NotificationsApiTests
{
    private const string SlackToken = "T0SLACK/B0HOOK/sEcReTsLaCkToKeN123";
    private const string SigningSecret = "sIgNiNg-SeCrEt-4567890";

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_incident_reaches_the_channels_of_matching_rules_and_secrets_are_never_shown_or_stored_in_clear(string dialect)
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var server = await MedicServer.StartAsync(dialect);
        var admin = server.Admin;

        using var slack = await admin.PostAsync("/api/v1/notification-channels", Json.Raw($$"""{"name":"ops-slack","kind":"slack","url":"{{receiver.Address}}services/{{SlackToken}}"}"""));
        var channel = await slack.ReadAsync(MedicJson.Default.NotificationChannelResponse, HttpStatusCode.Created);
        channel.Target.ShouldBe(receiver.Address.Authority);
        channel.StoredSecrets.ShouldBe(["url"]);
        using var hook = await admin.PostAsync("/api/v1/notification-channels", Json.Raw($$"""{"name":"hook","kind":"webhook","url":"{{receiver.Address}}hook","secret":"{{SigningSecret}}"}"""));
        (await hook.ReadAsync(MedicJson.Default.NotificationChannelResponse, HttpStatusCode.Created)).StoredSecrets.ShouldBe(["url", "signing_secret"]);
        using var rule = await admin.PostAsync("/api/v1/notification-rules", Json.Raw("""{"name":"shop-critical","channels":["ops-slack","hook"],"min_severity":"critical","labels":{"team":"shop"}}"""));
        var created = await rule.ReadAsync(MedicJson.Default.NotificationRuleResponse, HttpStatusCode.Created);
        created.Channels.ShouldBe(["ops-slack", "hook"]);
        created.Events.ShouldBe(["opened", "escalated", "resolved", "acknowledged", "approval_requested"]);
        created.RenotifyEverySeconds.ShouldBe(1800);

        using var ignored = await admin.PostAsync("/api/v1/incidents", Json.Raw("""{"title":"minor","severity":"warning","labels":{"team":"shop"}}"""));
        ignored.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var open = await admin.PostAsync("/api/v1/incidents", Json.Raw("""{"title":"checkout down","severity":"critical","labels":{"team":"shop"}}"""));
        var incident = await open.ReadAsync(MedicJson.Default.IncidentResponse, HttpStatusCode.Created);
        var requests = await receiver.WaitForAsync(2);
        requests.Select(r => r.Path).Order().ShouldBe(["/hook", "/services/" + SlackToken]);
        requests.Single(r => r.Path == "/hook").Json.GetProperty("link").GetString().ShouldBe($"{server.BaseAddress.ToString().TrimEnd('/')}/incidents/{incident.Id}");

        var log = await WaitForLogAsync(admin, incident.Id, 2);
        log.ShouldAllBe(d => d.Status == DeliveryStatus.Sent && d.Event == "opened" && d.Attempts == 1);
        using var all = await admin.GetAsync("/api/v1/notifications");
        (await all.ReadAsync(MedicJson.Default.IReadOnlyListNotificationDeliveryResponse)).Count.ShouldBe(2, "the warning matched no rule");

        using var list = await admin.GetAsync("/api/v1/notification-channels");
        var listed = await list.Content.ReadAsStringAsync();
        using var audit = await admin.GetAsync("/api/v1/audit?limit=500");
        var auditText = await audit.Content.ReadAsStringAsync();
        auditText.ShouldContain("notification_channel.create");
        auditText.ShouldContain("notification_rule.create");
        foreach (var secret in new[] { SlackToken, SigningSecret })
        {
            listed.ShouldNotContain(secret);
            auditText.ShouldNotContain(secret);
            server.Logs.Lines.ShouldNotContain(l => l.Message.Contains(secret, StringComparison.Ordinal));
            (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM notification_channels WHERE settings LIKE @s OR sealed_secrets LIKE @s", new { s = $"%{secret}%" })).ShouldBe(0);
            (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM jobs WHERE payload LIKE @s", new { s = $"%{secret}%" })).ShouldBe(0);
        }

        if (!server.Database.IsPostgres)
        {
            await server.Database.ExecuteAsync("PRAGMA wal_checkpoint(TRUNCATE)");
            var bytes = await File.ReadAllBytesAsync(server.Database.SqliteFile);
            System.Text.Encoding.UTF8.GetString(bytes).ShouldNotContain(SlackToken);
        }
    }

    [Fact]
    public async Task A_test_send_says_whether_the_receiver_accepted_it_and_is_audited()
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var add = await server.Admin.PostAsync("/api/v1/notification-channels",
            Json.Raw($$"""{"name":"tg","kind":"telegram","secret":"42:telegram-bot-token","chat_id":"1001","api_url":"{{receiver.Address}}"}"""));
        (await add.ReadAsync(MedicJson.Default.NotificationChannelResponse, HttpStatusCode.Created)).Target.ShouldBe($"chat 1001 via {receiver.Address.Authority}");

        using var ok = await server.Admin.PostAsync("/api/v1/notification-channels/tg/test", null);
        (await ok.ReadAsync(MedicJson.Default.NotificationTestResponse)).Delivered.ShouldBeTrue();
        receiver.Requests.ShouldHaveSingleItem().Path.ShouldBe("/bot42:telegram-bot-token/sendMessage");

        receiver.AnswerNext(401);
        using var refused = await server.Admin.PostAsync("/api/v1/notification-channels/tg/test", null);
        var result = await refused.ReadAsync(MedicJson.Default.NotificationTestResponse);
        result.Delivered.ShouldBeFalse();
        result.Detail.ShouldBe("HTTP 401 Unauthorized: receiver is unhappy");
        using var audit = await server.Admin.GetAsync("/api/v1/audit?action=notification_channel.test");
        (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.Select(e => e.Outcome).ShouldBe(["failed", "success"]);
    }

    [Theory]
    [InlineData("POST", "/api/v1/notification-channels", """{"name":"x","kind":"carrier-pigeon"}""", HttpStatusCode.BadRequest, "kind")]
    [InlineData("POST", "/api/v1/notification-channels", """{"name":"Bad Name","kind":"slack","url":"https://hooks.slack.com/x"}""", HttpStatusCode.BadRequest, "name")]
    [InlineData("POST", "/api/v1/notification-channels", """{"name":"s","kind":"slack"}""", HttpStatusCode.BadRequest, "url")]
    [InlineData("POST", "/api/v1/notification-channels", """{"name":"s","kind":"slack","url":"ftp://x"}""", HttpStatusCode.BadRequest, "url")]
    [InlineData("POST", "/api/v1/notification-channels", """{"name":"s","kind":"slack","url":"https://h/x","chat_id":"1"}""", HttpStatusCode.BadRequest, "chat_id")]
    [InlineData("POST", "/api/v1/notification-channels", """{"name":"t","kind":"telegram","secret":"x"}""", HttpStatusCode.BadRequest, "chat_id")]
    [InlineData("POST", "/api/v1/notification-channels", """{"name":"p","kind":"pagerduty"}""", HttpStatusCode.BadRequest, "secret")]
    [InlineData("POST", "/api/v1/notification-channels", """{"name":"m","kind":"email","smtp_host":"mail","from":"nope","to":["a@b.c"]}""", HttpStatusCode.BadRequest, "from")]
    [InlineData("POST", "/api/v1/notification-channels", """{"name":"m","kind":"email","smtp_host":"mail","from":"a@b.c","to":[]}""", HttpStatusCode.BadRequest, "to")]
    [InlineData("POST", "/api/v1/notification-channels", """{"name":"w","kind":"webhook","url":"https://h/x","secret":"short"}""", HttpStatusCode.BadRequest, "secret")]
    [InlineData("POST", "/api/v1/notification-rules", """{"name":"r","channels":[]}""", HttpStatusCode.BadRequest, "channels")]
    [InlineData("POST", "/api/v1/notification-rules", """{"name":"r","channels":["nope"]}""", HttpStatusCode.NotFound, "nope")]
    [InlineData("POST", "/api/v1/notification-rules", """{"name":"r","channels":["x"],"min_severity":"huge"}""", HttpStatusCode.BadRequest, "min_severity")]
    [InlineData("POST", "/api/v1/notification-rules", """{"name":"r","channels":["x"],"events":["exploded"]}""", HttpStatusCode.BadRequest, "events")]
    [InlineData("POST", "/api/v1/notification-rules", """{"name":"r","channels":["x"],"renotify_every":"5s"}""", HttpStatusCode.BadRequest, "renotify_every")]
    [InlineData("GET", "/api/v1/notifications?limit=0", null, HttpStatusCode.BadRequest, "limit")]
    [InlineData("DELETE", "/api/v1/notification-channels/nope", null, HttpStatusCode.NotFound, "nope")]
    [InlineData("POST", "/api/v1/notification-channels/nope/test", null, HttpStatusCode.NotFound, "nope")]
    [InlineData("DELETE", "/api/v1/notification-rules/nope", null, HttpStatusCode.NotFound, "nope")]
    public async Task Bad_requests_get_a_problem_that_names_the_fault(string method, string path, string? body, HttpStatusCode expected, string named)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : Json.Raw(body) };
        using var response = await server.Admin.SendAsync(request);
        var problem = await response.ShouldBeProblemAsync(expected);
        problem.ToJsonString().ShouldContain(named);
    }

    [Fact]
    public async Task A_channel_in_use_cannot_be_removed_and_only_admins_manage_channels()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var add = await server.Admin.PostAsync("/api/v1/notification-channels", Json.Raw("""{"name":"ops","kind":"discord","url":"https://discord.example/api/webhooks/1/x"}"""));
        add.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var dup = await server.Admin.PostAsync("/api/v1/notification-channels", Json.Raw("""{"name":"ops","kind":"discord","url":"https://discord.example/api/webhooks/1/x"}"""));
        await dup.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        using var rule = await server.Admin.PostAsync("/api/v1/notification-rules", Json.Raw("""{"name":"all","channels":["ops"],"renotify_every":"off"}"""));
        (await rule.ReadAsync(MedicJson.Default.NotificationRuleResponse, HttpStatusCode.Created)).RenotifyEverySeconds.ShouldBe(0);

        using var inUse = await server.Admin.DeleteAsync("/api/v1/notification-channels/ops");
        (await inUse.ShouldBeProblemAsync(HttpStatusCode.Conflict))["detail"]!.ToString().ShouldContain("all");
        (await server.Admin.DeleteAsync("/api/v1/notification-rules/all")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await server.Admin.DeleteAsync("/api/v1/notification-channels/ops")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var operatorClient = await server.ClientForNewUserAsync(server.Admin, "olga", Role.Operator);
        using var denied = await operatorClient.GetAsync("/api/v1/notification-channels");
        denied.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        using var log = await operatorClient.GetAsync("/api/v1/notifications");
        log.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static async Task<IReadOnlyList<NotificationDeliveryResponse>> WaitForLogAsync(HttpClient client, string incidentId, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await client.GetAsync($"/api/v1/notifications?incident={incidentId}");
            var log = await response.ReadAsync(MedicJson.Default.IReadOnlyListNotificationDeliveryResponse);
            if (log.Count >= count && log.All(d => d.Status == DeliveryStatus.Sent)) return log;
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"deliveries of {incidentId}: {string.Join(", ", log.Select(d => d.Status))}");
            await Task.Delay(50);
        }
    }
}
