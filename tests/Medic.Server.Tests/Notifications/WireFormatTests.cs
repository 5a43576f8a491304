using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Notifications;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Notifications;

/// <summary>Each channel kind sends what its service's documentation says it accepts, to a real receiver on loopback.</summary>
public sealed class WireFormatTests
{
    private static string[] Keys(JsonElement e) => [.. e.EnumerateObject().Select(p => p.Name)];

    [Fact]
    public async Task Every_channel_kind_sends_the_body_its_receiver_expects()
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var smtp = new TinySmtpServer();
        await using var h = await NotifyHarness.StartAsync(TestDatabase.Sqlite);
        var channels = new[]
        {
            await h.ChannelAsync("slack", ChannelKinds.Slack, url: receiver.Address + "services/T000/B000/XXXX"),
            await h.ChannelAsync("teams", ChannelKinds.Teams, url: receiver.Address + "workflows/teams"),
            await h.ChannelAsync("discord", ChannelKinds.Discord, url: receiver.Address + "api/webhooks/1/tok"),
            await h.ChannelAsync("telegram", ChannelKinds.Telegram, secret: "123456:bot-token-secret", apiUrl: receiver.Address.ToString().TrimEnd('/'), chatId: "-100200300"),
            await h.ChannelAsync("pager", ChannelKinds.PagerDuty, secret: "R0UT1NGKEY0123456789abcdefABCDEF", apiUrl: receiver.Address + "pd"),
            await h.ChannelAsync("hook", ChannelKinds.Webhook, url: receiver.Address + "hooks/medic", secret: "webhook-signing-secret-1"),
            await h.ChannelAsync("mail", ChannelKinds.Email, smtpHost: "127.0.0.1", smtpPort: smtp.Port, from: "medic@example.com", to: ["oncall@example.com", "lead@example.com"]),
        };
        await h.RuleAsync("everything", channels);

        var incident = await h.OpenAsync("Disk <full> & slow on web-1", "critical", new() { ["team"] = "shop" });
        await h.RunJobsAsync();
        var requests = await receiver.WaitForAsync(6);
        var mails = await smtp.WaitForAsync(1);
        ReceivedRequest At(string path) => requests.Single(r => r.Path == path);
        const string link = "https://medic.example.com/incidents/";

        var slack = At("/services/T000/B000/XXXX").Json;
        Keys(slack).ShouldBe(["text"]);
        slack.GetProperty("text").GetString()!.ShouldStartWith("[medic] CRITICAL opened: Disk &lt;full&gt; &amp; slow on web-1\n");
        slack.GetProperty("text").GetString()!.ShouldContain(link + incident.Id);
        At("/services/T000/B000/XXXX").Headers["Content-Type"].ShouldBe("application/json; charset=utf-8");

        var teams = At("/workflows/teams").Json;
        teams.GetProperty("type").GetString().ShouldBe("message");
        var attachment = teams.GetProperty("attachments").EnumerateArray().Single();
        attachment.GetProperty("contentType").GetString().ShouldBe("application/vnd.microsoft.card.adaptive");
        attachment.GetProperty("contentUrl").ValueKind.ShouldBe(JsonValueKind.Null);
        var card = attachment.GetProperty("content");
        card.GetProperty("type").GetString().ShouldBe("AdaptiveCard");
        card.GetProperty("$schema").GetString().ShouldBe("http://adaptivecards.io/schemas/adaptive-card.json");
        card.GetProperty("version").GetString().ShouldBe("1.4");
        var body = card.GetProperty("body").EnumerateArray().ToList();
        body[0].GetProperty("type").GetString().ShouldBe("TextBlock");
        body[0].GetProperty("text").GetString().ShouldBe("[medic] CRITICAL opened: Disk <full> & slow on web-1");
        body[^1].GetProperty("type").GetString().ShouldBe("FactSet");
        body[^1].GetProperty("facts").EnumerateArray().Select(f => f.GetProperty("title").GetString()).ShouldContain("severity");
        var action = card.GetProperty("actions").EnumerateArray().Single();
        action.GetProperty("type").GetString().ShouldBe("Action.OpenUrl");
        action.GetProperty("url").GetString().ShouldBe(link + incident.Id);

        var discord = At("/api/webhooks/1/tok").Json;
        Keys(discord).ShouldBe(["content", "allowed_mentions"]);
        discord.GetProperty("content").GetString()!.ShouldStartWith("[medic] CRITICAL opened: Disk <full> & slow on web-1");
        discord.GetProperty("allowed_mentions").GetProperty("parse").GetArrayLength().ShouldBe(0);

        var telegram = At("/bot123456:bot-token-secret/sendMessage").Json;
        Keys(telegram).ShouldBe(["chat_id", "text"]);
        telegram.GetProperty("chat_id").GetString().ShouldBe("-100200300");
        telegram.GetProperty("text").GetString()!.ShouldContain("Disk <full> & slow on web-1");

        var pd = At("/pd/v2/enqueue").Json;
        Keys(pd).ShouldBe(["routing_key", "event_action", "dedup_key", "payload", "client", "client_url", "links"]);
        pd.GetProperty("routing_key").GetString().ShouldBe("R0UT1NGKEY0123456789abcdefABCDEF");
        pd.GetProperty("event_action").GetString().ShouldBe("trigger");
        pd.GetProperty("dedup_key").GetString().ShouldBe(incident.Id);
        var payload = pd.GetProperty("payload");
        payload.GetProperty("summary").GetString().ShouldBe("CRITICAL opened: Disk <full> & slow on web-1");
        payload.GetProperty("source").GetString().ShouldBe("manual");
        payload.GetProperty("severity").GetString().ShouldBe("critical");
        DateTimeOffset.Parse(payload.GetProperty("timestamp").GetString()!, CultureInfo.InvariantCulture).ShouldBe(incident.FirstSeenAt);
        payload.GetProperty("custom_details").GetProperty("labels").GetString().ShouldBe("team=shop");
        pd.GetProperty("links").EnumerateArray().Single().GetProperty("href").GetString().ShouldBe(link + incident.Id);

        var hook = At("/hooks/medic");
        var ts = hook.Headers["X-Medic-Timestamp"];
        long.Parse(ts, CultureInfo.InvariantCulture).ShouldBe(h.Time.GetUtcNow().ToUnixTimeSeconds());
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("webhook-signing-secret-1"), (byte[])[.. Encoding.UTF8.GetBytes(ts + "."), .. hook.Body]));
        hook.Headers["X-Medic-Signature"].ShouldBe(expected);
        hook.Headers["X-Medic-Event"].ShouldBe("opened");
        hook.Json.GetProperty("event").GetString().ShouldBe("opened");
        hook.Json.GetProperty("delivery_id").GetString().ShouldBe(hook.Headers["X-Medic-Delivery"]);
        hook.Json.GetProperty("incident").GetProperty("id").GetString().ShouldBe(incident.Id);
        hook.Json.GetProperty("incident").GetProperty("labels").GetProperty("team").GetString().ShouldBe("shop");
        hook.Json.GetProperty("link").GetString().ShouldBe(link + incident.Id);

        var mail = mails.Single();
        mail.From.ShouldBe("medic@example.com");
        mail.To.ShouldBe(["oncall@example.com", "lead@example.com"]);
        mail.Data.ShouldContain("Subject: [medic] CRITICAL opened: Disk <full> & slow on web-1");
        mail.Body.ShouldStartWith("[medic] CRITICAL opened: Disk <full> & slow on web-1\n");
        mail.Body.ShouldContain(link + incident.Id);

        // Resolving sends PagerDuty a resolve with only the key; acknowledging, an acknowledge.
        var acked = await h.Incidents.AcknowledgeAsync(NotifyHarness.Tenant, incident.Id, "user:ann", null, null, default);
        await h.ChangedAsync("acknowledged", acked!);
        var resolved = await h.Incidents.ResolveManuallyAsync(NotifyHarness.Tenant, incident.Id, "user:ann", null, "cleaned", default);
        await h.ChangedAsync("resolved", resolved!);
        await h.RunJobsAsync();
        var pdEvents = (await receiver.WaitForAsync(18)).Where(r => r.Path == "/pd/v2/enqueue").Select(r => r.Json).ToList();
        pdEvents.Select(e => e.GetProperty("event_action").GetString()).ShouldBe(["trigger", "acknowledge", "resolve"]);
        Keys(pdEvents[2]).ShouldBe(["routing_key", "event_action", "dedup_key"]);
        pdEvents[2].GetProperty("dedup_key").GetString().ShouldBe(incident.Id);
        (await smtp.WaitForAsync(3)).Count.ShouldBe(3);
        (await h.LogAsync(incident.Id)).Count.ShouldBe(21);
        (await h.LogAsync(incident.Id)).ShouldAllBe(d => d.Status == DeliveryStatus.Sent);
    }

    [Fact]
    public async Task An_approval_request_links_to_the_console_approval_page()
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var h = await NotifyHarness.StartAsync(TestDatabase.Sqlite);
        await h.RuleAsync("approvers", [await h.ChannelAsync("hook", ChannelKinds.Webhook, url: receiver.Address + "hook")], events: ["approval_requested"]);
        var incident = await h.Incidents.CreateManualAsync(NotifyHarness.Tenant, "user:admin", null, new Contracts.CreateIncidentRequest("disk full", "warning"), null, default);
        await h.ChangedAsync("created", incident);

        (await h.Db.Database.WriteAsync((c, tx) => h.Planner.ApprovalRequestedAsync(c, tx, NotifyHarness.Tenant, "apr_42", incident))).ShouldBe(1);
        (await h.Db.Database.WriteAsync((c, tx) => h.Planner.ApprovalRequestedAsync(c, tx, NotifyHarness.Tenant, "apr_42", incident))).ShouldBe(0);
        await h.RunJobsAsync();

        var sent = receiver.Requests.ShouldHaveSingleItem().Json;
        sent.GetProperty("event").GetString().ShouldBe("approval_requested");
        sent.GetProperty("approval_id").GetString().ShouldBe("apr_42");
        sent.GetProperty("link").GetString().ShouldBe("https://medic.example.com/approvals/apr_42");
    }
}
