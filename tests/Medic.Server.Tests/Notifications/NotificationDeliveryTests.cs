using System.Net;
using System.Net.Sockets;
using Medic.Contracts;
using Medic.Server.Incidents;
using Medic.Server.Notifications;
using Medic.Server.Storage;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Notifications;

/// <summary>Incident changes reach the right channels once each: routed by rules, retried with backoff, dead when the receiver stays down, repeated until acknowledged, damped when flapping.</summary>
public sealed class NotificationDeliveryTests
{
    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Rules_route_by_severity_and_labels(string dialect)
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var h = await NotifyHarness.StartAsync(dialect);
        var pager = await h.ChannelAsync("pager", ChannelKinds.PagerDuty, secret: "routing-key-0123456789abcdef0123", apiUrl: receiver.Address + "pd");
        var shop = await h.ChannelAsync("shop-slack", ChannelKinds.Slack, url: receiver.Address + "slack/shop");
        await h.RuleAsync("critical-pages", [pager], minSeverity: "critical");
        await h.RuleAsync("shop-team", [shop], labels: new() { ["team"] = "shop" });

        var shopWarning = await h.OpenAsync("checkout slow", "warning", new() { ["team"] = "shop" });
        var critical = await h.OpenAsync("db down", "critical", new() { ["team"] = "data" });
        var both = await h.OpenAsync("shop down", "critical", new() { ["team"] = "shop" });
        var neither = await h.OpenAsync("cron noisy", "info", new() { ["team"] = "ops" });
        await h.RunJobsAsync();

        var got = receiver.Requests.Select(r => (r.Path, Id: r.Path == "/pd/v2/enqueue" ? r.Json.GetProperty("dedup_key").GetString() : r.Json.GetProperty("text").GetString()!.Split('\n')[0])).ToList();
        got.Count.ShouldBe(4);
        got.ShouldContain(("/slack/shop", "[medic] WARNING opened: checkout slow"));
        got.ShouldContain(("/pd/v2/enqueue", critical.Id));
        got.ShouldContain(("/pd/v2/enqueue", both.Id));
        got.ShouldContain(("/slack/shop", "[medic] CRITICAL opened: shop down"));
        (await h.LogAsync(neither.Id)).ShouldBeEmpty();
        (await h.LogAsync(shopWarning.Id)).ShouldHaveSingleItem().Status.ShouldBe(DeliveryStatus.Sent);
        (await h.LogAsync()).ShouldAllBe(d => d.Status == DeliveryStatus.Sent && d.Attempts == 1);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_receiver_that_answers_500_then_200_gets_the_message_delivered_once_after_a_backoff(string dialect)
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var h = await NotifyHarness.StartAsync(dialect);
        await h.RuleAsync("all", [await h.ChannelAsync("ops", ChannelKinds.Discord, url: receiver.Address + "discord")]);
        receiver.AnswerNext(500);

        var incident = await h.OpenAsync("disk full");
        await h.RunJobsAsync();
        var first = (await h.LogAsync(incident.Id)).ShouldHaveSingleItem();
        first.Status.ShouldBe(DeliveryStatus.Retrying);
        first.Attempts.ShouldBe(1);
        first.LastError!.ShouldStartWith("HTTP 500");

        await h.RunJobsAsync();
        receiver.Requests.Count.ShouldBe(1, "not before the backoff");
        h.Time.Advance(JobQueue.Backoff(1));
        await h.RunJobsAsync();
        h.Time.Advance(TimeSpan.FromHours(1));
        await h.RunJobsAsync();

        receiver.Requests.Count.ShouldBe(2);
        var sent = (await h.LogAsync(incident.Id)).ShouldHaveSingleItem();
        sent.Status.ShouldBe(DeliveryStatus.Sent);
        sent.Attempts.ShouldBe(2);
        sent.LastError.ShouldBeNull();
        sent.SentAt.ShouldBe(NotifyHarness.Noon + JobQueue.Backoff(1));
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_receiver_down_for_every_attempt_leaves_the_delivery_dead_with_its_error(string dialect)
    {
        var closedPort = ClosedPort();
        await using var h = await NotifyHarness.StartAsync(dialect, maxAttempts: 3);
        await h.RuleAsync("all", [await h.ChannelAsync("hook", ChannelKinds.Webhook, url: $"http://127.0.0.1:{closedPort}/medic", secret: "a-signing-secret-0123")]);

        var incident = await h.OpenAsync("api down");
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            await h.RunJobsAsync();
            h.Time.Advance(TimeSpan.FromMinutes(10));
        }

        var dead = (await h.LogAsync(incident.Id)).ShouldHaveSingleItem();
        dead.Status.ShouldBe(DeliveryStatus.Dead);
        dead.Attempts.ShouldBe(3);
        dead.LastError.ShouldBe($"127.0.0.1:{closedPort}: the request failed (ConnectionError)");
        (await h.Queue.GetAsync($"notify:{incident.Id}:1:opened:{dead.ChannelId}", default))!.StatusValue.ShouldBe(JobStatus.Dead);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_worker_that_dies_after_the_receiver_accepted_never_causes_a_second_send(string dialect)
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var h = await NotifyHarness.StartAsync(dialect);
        await h.RuleAsync("all", [await h.ChannelAsync("ops", ChannelKinds.Slack, url: receiver.Address + "slack")]);
        var incident = await h.OpenAsync("queue stuck");

        // A worker claims the job, sends it, records it sent, and dies before marking the job done.
        var job = (await h.Queue.ClaimAsync([NotificationPlanner.DeliverKind], "doomed-worker", TimeSpan.FromMinutes(1), 10, default)).ShouldHaveSingleItem();
        await h.Deliverer.HandleAsync(job, default);
        receiver.Requests.Count.ShouldBe(1);

        h.Time.Advance(TimeSpan.FromMinutes(2)); // its lease runs out; another worker takes the job over
        (await h.RunJobsAsync()).ShouldBe(1);
        h.Time.Advance(TimeSpan.FromHours(1));
        await h.RunJobsAsync();

        receiver.Requests.Count.ShouldBe(1);
        (await h.Queue.GetAsync(job.IdempotencyKey, default))!.StatusValue.ShouldBe(JobStatus.Done);
        (await h.LogAsync(incident.Id)).ShouldHaveSingleItem().Status.ShouldBe(DeliveryStatus.Sent);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_same_change_planned_twice_is_sent_once(string dialect)
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var h = await NotifyHarness.StartAsync(dialect);
        await h.RuleAsync("all", [await h.ChannelAsync("ops", ChannelKinds.Slack, url: receiver.Address + "slack")]);

        var incident = await h.OpenAsync("cert expiring");
        (await h.ChangedAsync("created", incident)).ShouldBe(0);
        (await h.ChangedAsync("updated", incident)).ShouldBe(0);
        await h.RunJobsAsync();

        receiver.Requests.Count.ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_critical_incident_is_sent_again_every_interval_until_someone_acknowledges_it(string dialect)
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var h = await NotifyHarness.StartAsync(dialect);
        await h.RuleAsync("all", [await h.ChannelAsync("ops", ChannelKinds.Slack, url: receiver.Address + "slack")], renotifySeconds: 1800);

        var critical = await h.OpenAsync("payments down", "critical");
        var warning = await h.OpenAsync("disk 85%", "warning");
        await h.RunJobsAsync();
        receiver.Requests.Count.ShouldBe(2);

        h.Time.Advance(TimeSpan.FromMinutes(29));
        await h.RunJobsAsync();
        receiver.Requests.Count.ShouldBe(2, "not before 30 minutes");
        h.Time.Advance(TimeSpan.FromMinutes(1));
        await h.RunJobsAsync();
        h.Time.Advance(TimeSpan.FromMinutes(30));
        await h.RunJobsAsync();
        var texts = receiver.Requests.Select(r => r.Json.GetProperty("text").GetString()!.Split('\n')[0]).ToList();
        texts.Count(t => t == "[medic] CRITICAL still open, not acknowledged: payments down").ShouldBe(2);
        texts.ShouldNotContain(t => t.Contains("disk 85%", StringComparison.Ordinal) && t.Contains("still open", StringComparison.Ordinal));

        var acked = await h.Incidents.AcknowledgeAsync(NotifyHarness.Tenant, critical.Id, "user:ann", null, "on it", default);
        await h.ChangedAsync("acknowledged", acked!);
        await h.RunJobsAsync();
        for (var i = 0; i < 4; i++)
        {
            h.Time.Advance(TimeSpan.FromMinutes(30));
            await h.RunJobsAsync();
        }

        var events = (await h.LogAsync(critical.Id)).Select(d => d.Event).Reverse().ToList();
        events.ShouldBe(["opened", "reminder", "reminder", "acknowledged"]);
        receiver.Requests[^1].Json.GetProperty("text").GetString()!.ShouldStartWith("[medic] CRITICAL acknowledged: payments down");
        (await h.LogAsync(warning.Id)).Select(d => d.Event).ShouldBe(["opened"]);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_flapping_incident_is_notified_at_most_once_per_damping_window(string dialect)
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var h = await NotifyHarness.StartAsync(dialect);
        await h.RuleAsync("all", [await h.ChannelAsync("ops", ChannelKinds.Slack, url: receiver.Address + "slack")]);

        // Open and resolve ten times, a minute apart: the store marks it flapping after four changes.
        string? id = null;
        for (var i = 0; i < 10; i++)
        {
            var resolved = i % 2 == 1;
            var signal = new IncidentSignal(NotifyHarness.Tenant, IncidentSources.Check, "chk:api", "check_failed", "critical", "api check failing", null, null, null,
                new Dictionary<string, string>(), null, resolved, h.Time.GetUtcNow(), "check:api");
            var outcome = (await h.Ingest.IngestAsync([signal], default)).Single();
            id ??= outcome.IncidentId;
            var incident = (await h.Queries.GetAsync(NotifyHarness.Tenant, outcome.IncidentId!, default))!.Incident;
            await h.ChangedAsync(outcome.Action.ToText(), incident);
            await h.RunJobsAsync();
            h.Time.Advance(TimeSpan.FromMinutes(1));
        }

        var log = (await h.LogAsync(id)).Reverse().ToList();
        log.Count.ShouldBe(10);
        var sent = log.Where(d => d.Status == DeliveryStatus.Sent).ToList();
        var damped = log.Where(d => d.Status == DeliveryStatus.Damped).ToList();
        sent.Count.ShouldBeLessThan(5, "at most the changes before it was known to flap, then one per window");
        damped.Count.ShouldBe(10 - sent.Count);
        damped.ShouldAllBe(d => d.LastError!.StartsWith("damped: the incident is flapping", StringComparison.Ordinal));
        receiver.Requests.Count.ShouldBe(sent.Count);

        // Past the window, the next change is sent again.
        h.Time.Advance(TimeSpan.FromMinutes(31));
        var reopen = new IncidentSignal(NotifyHarness.Tenant, IncidentSources.Check, "chk:api", "check_failed", "critical", "api check failing", null, null, null,
            new Dictionary<string, string>(), null, false, h.Time.GetUtcNow(), "check:api");
        var again = (await h.Ingest.IngestAsync([reopen], default)).Single();
        await h.ChangedAsync(again.Action.ToText(), (await h.Queries.GetAsync(NotifyHarness.Tenant, again.IncidentId!, default))!.Incident);
        await h.RunJobsAsync();
        receiver.Requests.Count.ShouldBe(sent.Count + 1);
    }

    [Fact]
    public async Task A_removed_channel_s_queued_delivery_is_dead_with_the_reason()
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var h = await NotifyHarness.StartAsync(TestDatabase.Sqlite);
        var channel = await h.ChannelAsync("ops", ChannelKinds.Slack, url: receiver.Address + "slack");
        await h.RuleAsync("all", [channel]);
        var incident = await h.OpenAsync("disk full");
        await h.Db.ExecuteAsync("UPDATE notification_channels SET removed_at = @at", new { at = NotifyHarness.Noon });

        await h.RunJobsAsync();

        receiver.Requests.ShouldBeEmpty();
        var d = (await h.LogAsync(incident.Id)).ShouldHaveSingleItem();
        d.Status.ShouldBe(DeliveryStatus.Dead);
        d.LastError.ShouldBe("the channel was removed before the message went out");
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
