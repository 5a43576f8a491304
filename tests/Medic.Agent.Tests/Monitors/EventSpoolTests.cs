using Medic.Agent.Monitors;
using Medic.Contracts.Agent;

namespace Medic.Agent.Tests.Monitors;

/// <summary>The on-disk event spool: it outlives the agent, stays bounded, and delivers at least once.</summary>
public sealed class EventSpoolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("medic-spool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static AgentEvent Event(int n) =>
        new(EventSpool.NewId(), DateTimeOffset.UnixEpoch.AddSeconds(n), "incident.opened", $"web: down #{n}", new Dictionary<string, string> { ["fingerprint"] = "monitor/web", ["n"] = n.ToString() });

    [Fact]
    public void Events_survive_a_restart_of_the_agent_in_order()
    {
        var first = new EventSpool(_dir);
        first.Append(Event(1));
        first.Append(Event(2));

        var again = new EventSpool(_dir);

        again.Count.ShouldBe(2);
        again.Peek(10).Select(e => e.Message).ShouldBe(["web: down #1", "web: down #2"]);
        again.Peek(1)[0].Data!["fingerprint"].ShouldBe("monitor/web");
    }

    [Fact]
    public void A_removed_event_stays_removed_after_a_restart()
    {
        var spool = new EventSpool(_dir);
        spool.Append(Event(1));
        spool.Append(Event(2));
        spool.Remove(spool.Peek(1)[0].Id);

        new EventSpool(_dir).Peek(10).Select(e => e.Message).ShouldBe(["web: down #2"]);
    }

    [Fact]
    public void A_full_spool_drops_the_oldest_and_counts_them_across_restarts()
    {
        var spool = new EventSpool(_dir, maxEntries: 3);
        for (var i = 1; i <= 5; i++) spool.Append(Event(i));

        spool.Count.ShouldBe(3);
        spool.Dropped.ShouldBe(2);
        var again = new EventSpool(_dir, maxEntries: 3);
        again.Peek(10).Select(e => e.Message).ShouldBe(["web: down #3", "web: down #4", "web: down #5"]);
        again.Dropped.ShouldBe(2);
        again.AcknowledgeDropped(2);
        new EventSpool(_dir, maxEntries: 3).Dropped.ShouldBe(0);
    }

    [Fact]
    public void The_byte_cap_bounds_the_file_too()
    {
        var spool = new EventSpool(_dir, maxEntries: 10_000, maxBytes: 4096);
        for (var i = 0; i < 200; i++) spool.Append(Event(i));

        new FileInfo(spool.FilePath).Length.ShouldBeLessThanOrEqualTo(4096);
        spool.Dropped.ShouldBeGreaterThan(0);
        spool.Peek(1000).Last().Message.ShouldBe("web: down #199");
    }

    [Fact]
    public void A_line_torn_by_a_crash_is_skipped_and_the_rest_kept()
    {
        var spool = new EventSpool(_dir);
        spool.Append(Event(1));
        File.AppendAllText(spool.FilePath, "{\"id\":\"evt_torn\",\"at\":");

        var again = new EventSpool(_dir);

        again.Peek(10).Select(e => e.Message).ShouldBe(["web: down #1"]);
        again.Append(Event(2));
        new EventSpool(_dir).Count.ShouldBe(2);
    }

    [Fact]
    public async Task The_daemon_sends_spooled_events_oldest_first_and_removes_each_once_sent()
    {
        var spool = new EventSpool(_dir);
        spool.Append(Event(1));
        spool.Append(Event(2));
        var sent = new List<AgentMessage>();
        var daemon = new AgentDaemon(new AgentConfig { SigningPublicKey = Convert.ToBase64String(System.Security.Cryptography.ECDsa.Create().ExportSubjectPublicKeyInfo()) },
            new LocalHostProbe(), new PolicyTaskExecutor(new Medic.Agent.Policy.AgentPolicy()), TimeProvider.System, TextWriter.Null, spool);
        using var stop = new CancellationTokenSource();
        var sendFailsOnce = true;
        Task Send(AgentMessage m)
        {
            if (m is AgentEvent { Message: "web: down #3" } && sendFailsOnce)
            {
                sendFailsOnce = false;
                throw new System.Net.WebSockets.WebSocketException("link lost");
            }

            lock (sent) sent.Add(m);
            return Task.CompletedTask;
        }

        var drain = daemon.DrainSpoolAsync(spool, Send, stop.Token);
        await TestService.WaitUntilAsync(() => Task.FromResult(spool.Count == 0), TimeSpan.FromSeconds(5), "the spool did not empty");
        spool.Append(Event(3));
        await Should.ThrowAsync<System.Net.WebSockets.WebSocketException>(() => drain.WaitAsync(TimeSpan.FromSeconds(5)));

        spool.Count.ShouldBe(1, "an event whose send failed stays for the next connection");
        var next = daemon.DrainSpoolAsync(spool, Send, stop.Token);
        await TestService.WaitUntilAsync(() => Task.FromResult(spool.Count == 0), TimeSpan.FromSeconds(5), "the spool did not empty on reconnect");
        await stop.CancelAsync();
        lock (sent) sent.OfType<AgentEvent>().Select(e => e.Message).ShouldBe(["web: down #1", "web: down #2", "web: down #3"]);
    }
}
