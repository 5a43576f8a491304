using System.Text.Json;
using Medic.Agent.Monitors;
using Medic.Agent.Watch;
using Medic.Contracts;

namespace Medic.Agent.Tests.Watch;

/// <summary>Each notification channel against a fake of its service, at the wire.</summary>
public sealed class NotifierTests
{
    private static readonly Notification GaveUp = new(
        "gave_up", "box-1", "worker", "process", "critical",
        "worker: gave up restarting it (3 restarts within 10m (max_restarts 3)): not running: pid 42 exited with code 3",
        "monitor/worker", new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero),
        new Dictionary<string, string>
        {
            [EvidenceKeys.ExitStatus] = "exited with code 3",
            [EvidenceKeys.LastLines] = "[stderr] fatal: no config",
            [EvidenceKeys.RestartHistory] = "2026-03-01T11:59:58.000Z: restarted (...) -> not healthy",
        },
        new Dictionary<string, string> { ["team"] = "ops" },
        "/var/lib/medic/watch/reports/20260301-120000-worker.md");

    private static readonly HttpClient Http = new();

    [Fact]
    public async Task Slack_gets_an_incoming_webhook_text_message()
    {
        await using var slack = new FakeHttpService(200, "ok");

        await new SlackNotifier(Http, slack.Url + "/services/T000/B000/XXXX").SendAsync(GaveUp, CancellationToken.None);

        var request = slack.Requests.ShouldHaveSingleItem();
        (request.Method, request.Path).ShouldBe(("POST", "/services/T000/B000/XXXX"));
        request.Headers["Content-Type"].ShouldStartWith("application/json");
        using var json = JsonDocument.Parse(request.Body);
        json.RootElement.EnumerateObject().Select(p => p.Name).ShouldBe(["text"]);
        var text = json.RootElement.GetProperty("text").GetString()!;
        text.ShouldStartWith("[medic watch] box-1: worker: gave up restarting it");
        text.ShouldContain("exit status: exited with code 3");
        text.ShouldContain("last log lines:\n[stderr] fatal: no config");
        text.ShouldContain("report: /var/lib/medic/watch/reports/20260301-120000-worker.md");
    }

    [Fact]
    public async Task Discord_gets_content_of_at_most_2000_characters()
    {
        await using var discord = new FakeHttpService(204, "");
        var long_ = GaveUp with { Evidence = new Dictionary<string, string> { [EvidenceKeys.LastLines] = new string('x', 5000) } };

        await new DiscordNotifier(Http, discord.Url + "/api/webhooks/1/abc").SendAsync(long_, CancellationToken.None);

        var request = discord.Requests.ShouldHaveSingleItem();
        request.Path.ShouldBe("/api/webhooks/1/abc");
        using var json = JsonDocument.Parse(request.Body);
        json.RootElement.EnumerateObject().Select(p => p.Name).ShouldBe(["content", "allowed_mentions"]);
        json.RootElement.GetProperty("content").GetString()!.Length.ShouldBe(2000);
    }

    [Fact]
    public async Task Chat_messages_from_watch_are_worded_as_the_servers_are_so_a_title_cannot_ping_or_inject_markup()
    {
        await using var receiver = new FakeHttpService(200, "ok");
        var sneaky = GaveUp with { Title = "@everyone <!channel> disk & more" };

        await new SlackNotifier(Http, receiver.Url + "/slack").SendAsync(sneaky, CancellationToken.None);
        await new DiscordNotifier(Http, receiver.Url + "/discord").SendAsync(sneaky, CancellationToken.None);

        using var slack = JsonDocument.Parse(receiver.Requests[0].Body);
        slack.RootElement.GetProperty("text").GetString()!.ShouldContain(": @everyone &lt;!channel&gt; disk &amp; more");
        using var discord = JsonDocument.Parse(receiver.Requests[1].Body);
        discord.RootElement.GetProperty("allowed_mentions").GetProperty("parse").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task Telegram_gets_sendMessage_with_the_chat_id_under_the_bot_token()
    {
        await using var telegram = new FakeHttpService(200, "{\"ok\":true,\"result\":{}}");

        await new TelegramNotifier(Http, new TelegramTarget("123456:ABC-DEF", "-1001234567890", telegram.Url)).SendAsync(GaveUp, CancellationToken.None);

        var request = telegram.Requests.ShouldHaveSingleItem();
        (request.Method, request.Path).ShouldBe(("POST", "/bot123456:ABC-DEF/sendMessage"));
        using var json = JsonDocument.Parse(request.Body);
        json.RootElement.GetProperty("chat_id").GetString().ShouldBe("-1001234567890");
        json.RootElement.GetProperty("text").GetString()!.ShouldStartWith("[medic watch] box-1: worker: gave up");
    }

    [Fact]
    public async Task A_generic_webhook_gets_the_whole_notification_as_json_with_its_headers()
    {
        await using var hook = new FakeHttpService(202, "");

        await new WebhookNotifier(Http, new WebhookTarget(hook.Url + "/hooks/medic", new Dictionary<string, string> { ["Authorization"] = "Bearer s3cret" }))
            .SendAsync(GaveUp, CancellationToken.None);

        var request = hook.Requests.ShouldHaveSingleItem();
        request.Headers["Authorization"].ShouldBe("Bearer s3cret");
        using var json = JsonDocument.Parse(request.Body);
        var root = json.RootElement;
        root.GetProperty("event").GetString().ShouldBe("gave_up");
        root.GetProperty("host").GetString().ShouldBe("box-1");
        root.GetProperty("monitor").GetString().ShouldBe("worker");
        root.GetProperty("kind").GetString().ShouldBe("process");
        root.GetProperty("severity").GetString().ShouldBe("critical");
        root.GetProperty("fingerprint").GetString().ShouldBe("monitor/worker");
        root.GetProperty("at").GetString().ShouldBe("2026-03-01T12:00:00+00:00");
        root.GetProperty("evidence").GetProperty("exit_status").GetString().ShouldBe("exited with code 3");
        root.GetProperty("labels").GetProperty("team").GetString().ShouldBe("ops");
        root.GetProperty("report").GetString().ShouldEndWith("worker.md");
    }

    [Fact]
    public async Task Email_goes_over_smtp_to_every_recipient()
    {
        await using var smtp = new FakeSmtpServer();

        await new EmailNotifier(new EmailTarget("127.0.0.1", smtp.Port, StartTls: false, null, null, "medic@box-1.example", ["ops@example.com", "oncall@example.com"]))
            .SendAsync(GaveUp, CancellationToken.None);

        smtp.Commands.ShouldContain(c => c.StartsWith("MAIL FROM:<medic@box-1.example>", StringComparison.Ordinal));
        smtp.Commands.Count(c => c.StartsWith("RCPT TO:", StringComparison.Ordinal)).ShouldBe(2);
        var message = smtp.Messages.ShouldHaveSingleItem();
        message.ShouldContain("Subject: [medic watch] box-1: worker: gave up restarting it");
        message.ShouldContain("To: ops@example.com, oncall@example.com");
    }

    [Fact]
    public async Task A_refused_notification_says_why_without_the_secret_url()
    {
        await using var slack = new FakeHttpService(403, "invalid_token");

        var error = await Should.ThrowAsync<NotifyException>(() => new SlackNotifier(Http, slack.Url + "/services/SECRET").SendAsync(GaveUp, CancellationToken.None));

        error.Message.ShouldBe("HTTP 403 X: invalid_token");
        error.Message.ShouldNotContain("SECRET");
    }

    [Fact]
    public async Task An_unreachable_service_fails_without_naming_the_token()
    {
        var port = Monitors.TestService.FreePort();

        var error = await Should.ThrowAsync<NotifyException>(() =>
            new TelegramNotifier(Http, new TelegramTarget("999:TOKEN", "1", $"http://127.0.0.1:{port}")).SendAsync(GaveUp, CancellationToken.None));

        error.Message.ShouldNotContain("TOKEN");
        error.Message.ShouldStartWith($"127.0.0.1:{port}: the request failed");
    }
}
