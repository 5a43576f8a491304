using System.Threading.Channels;
using Medic.Contracts;
using Medic.Server.Runbooks;

namespace Medic.Server.Tests.Runbooks;

/// <summary>A watcher who comes while a step runs sees that step's start and its output so far, then the rest as it comes.</summary>
public sealed class LiveRunsTests
{
    private static RunbookRunEvent Started(string server, int step) => new("step_started", server, step, "greet", "main");

    private static RunbookRunEvent Output(string server, int step, string data) => new("output", server, step, "greet", "main", "stdout", data);

    private static RunbookRunEvent Finished(string server, int step) => new("step_finished", server, step, "greet", "main");

    private static List<RunbookRunEvent> Drain(ChannelReader<RunbookRunEvent> feed)
    {
        var events = new List<RunbookRunEvent>();
        while (feed.TryRead(out var e)) events.Add(e);
        return events;
    }

    [Fact]
    public void A_late_watcher_gets_the_running_steps_output_so_far_then_the_next_lines()
    {
        var live = new LiveRuns(TimeProvider.System);
        live.Open("r1");
        live.Publish("r1", Started("vm", 1));
        live.Publish("r1", Output("vm", 1, "line 1\n"));
        live.Publish("r1", Output("vm", 1, "line 2\n"));

        var feed = live.Subscribe("r1")!;
        live.Publish("r1", Output("vm", 1, "line 3\n"));

        Drain(feed).Select(e => e.Type + ":" + e.Data).ShouldBe(["step_started:", "output:line 1\n", "output:line 2\n", "output:line 3\n"]);
    }

    [Fact]
    public void A_finished_step_is_not_replayed_since_the_store_has_it()
    {
        var live = new LiveRuns(TimeProvider.System);
        live.Open("r1");
        live.Publish("r1", Started("vm", 1));
        live.Publish("r1", Output("vm", 1, "done\n"));
        live.Publish("r1", Finished("vm", 1));
        live.Publish("r1", Started("vm", 2));
        live.Publish("r1", Started("db", 1));
        live.Publish("r1", Output("db", 1, "db says\n"));

        var events = Drain(live.Subscribe("r1")!);

        events.ShouldNotContain(e => e.Server == "vm" && e.Step == 1);
        events.Select(e => $"{e.Type}:{e.Server}:{e.Step}").ShouldBe(["step_started:vm:2", "step_started:db:1", "output:db:1"], ignoreOrder: true);
    }

    [Fact]
    public void The_replay_keeps_the_newest_output_within_its_bound()
    {
        var live = new LiveRuns(TimeProvider.System);
        live.Open("r1");
        live.Publish("r1", Started("vm", 1));
        var chunk = new string('x', 1000);
        for (var i = 0; i < 200; i++) live.Publish("r1", Output("vm", 1, i + chunk));

        var events = Drain(live.Subscribe("r1")!);

        events[0].Type.ShouldBe("step_started");
        events.Skip(1).Sum(e => e.Data!.Length).ShouldBeLessThanOrEqualTo(LiveRuns.ReplayChars);
        events[^1].Data!.ShouldStartWith("199");
        events.Count.ShouldBeGreaterThan(50);
    }

    [Fact]
    public void A_finished_run_has_no_feed_and_its_watchers_feeds_close()
    {
        var live = new LiveRuns(TimeProvider.System);
        live.Open("r1");
        var feed = live.Subscribe("r1")!;

        live.Finish("r1", RunbookRunStatus.Succeeded);

        live.Subscribe("r1").ShouldBeNull();
        Drain(feed).Single().Status.ShouldBe(RunbookRunStatus.Succeeded);
        feed.Completion.IsCompleted.ShouldBeTrue();
    }
}
