using System.Collections.Concurrent;
using System.Threading.Channels;
using Medic.Contracts;

namespace Medic.Server.Runbooks;

/// <summary>
/// The runbook runs going on in this process: each run's task, for callers that wait for it to
/// finish, and each run's live watchers (<c>/ws/runbook-runs/{id}</c>), to which its events go.
/// </summary>
internal sealed class LiveRuns(TimeProvider time)
{
    /// <summary>How much output of one step still running a late watcher is replayed (the stored result keeps it all).</summary>
    internal const int ReplayChars = 64 * 1024;

    private readonly ConcurrentDictionary<string, Watch> _watches = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    /// <summary>Lets watchers subscribe to run <paramref name="id"/>: call before it starts.</summary>
    public void Open(string id) => _watches[id] = new Watch();

    public void Track(string id, Task run) => _running[id] = run;

    /// <summary>
    /// A feed of run <paramref name="id"/>'s events from now on, preceded by the start and the output so
    /// far of each step still running: a watcher who comes in the middle of a step sees its first lines,
    /// which the store does not have until the step ends. Null when the run is not going on in this process.
    /// </summary>
    public ChannelReader<RunbookRunEvent>? Subscribe(string id)
    {
        if (!_watches.TryGetValue(id, out var watch)) return null;
        var channel = Channel.CreateBounded<RunbookRunEvent>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (watch)
        {
            foreach (var e in watch.InFlight.Values.SelectMany(step => step.Events)) channel.Writer.TryWrite(e);
            watch.Watchers.Add(channel);
        }

        return channel.Reader;
    }

    public void Publish(string id, RunbookRunEvent e)
    {
        if (!_watches.TryGetValue(id, out var watch)) return;
        lock (watch)
        {
            watch.Remember(e);
            foreach (var w in watch.Watchers) w.Writer.TryWrite(e);
        }
    }

    /// <summary>Run <paramref name="id"/> has ended (its status is stored): its watchers get the last event and their feeds close; waiters are let go.</summary>
    public void Finish(string id, RunbookRunStatus status)
    {
        Publish(id, new RunbookRunEvent("finished", Status: status));
        if (_watches.TryRemove(id, out var watch))
        {
            lock (watch)
            {
                foreach (var w in watch.Watchers) w.Writer.TryComplete();
            }
        }

        _running.TryRemove(id, out _);
    }

    public async Task WaitAsync(string id, TimeSpan max, CancellationToken ct)
    {
        if (!_running.TryGetValue(id, out var run))
        {
            await Task.Delay(max, time, ct);
            return;
        }

        try
        {
            await run.WaitAsync(max, time, ct);
        }
        catch (TimeoutException)
        {
            // Still going: the caller reads the run again and waits some more.
        }
    }

    public Task DrainAsync(TimeSpan timeout) => Task.WhenAll(_running.Values).WaitAsync(timeout);

    /// <summary>One run's watchers, and the events of its steps still running (guarded by locking the watch).</summary>
    private sealed class Watch
    {
        public List<Channel<RunbookRunEvent>> Watchers { get; } = [];

        public Dictionary<(string Server, int Step, string Phase), InFlightStep> InFlight { get; } = [];

        public void Remember(RunbookRunEvent e)
        {
            if (e.Server is not { } server || e.Step is not { } step) return;
            var key = (server, step, e.Phase ?? "main");
            switch (e.Type)
            {
                case "step_started":
                    InFlight[key] = new InFlightStep(e);
                    break;
                case "output" when InFlight.TryGetValue(key, out var running):
                    running.Add(e);
                    break;
                case "step_finished":
                    InFlight.Remove(key);
                    break;
            }
        }
    }

    /// <summary>A step's start and its output so far, the oldest output dropped past <see cref="ReplayChars"/>.</summary>
    private sealed class InFlightStep(RunbookRunEvent started)
    {
        private readonly LinkedList<RunbookRunEvent> _output = [];
        private int _chars;

        public IEnumerable<RunbookRunEvent> Events => _output.Prepend(started);

        public void Add(RunbookRunEvent output)
        {
            _output.AddLast(output);
            _chars += output.Data?.Length ?? 0;
            while (_chars > ReplayChars && _output.First is { } oldest)
            {
                _chars -= oldest.Value.Data?.Length ?? 0;
                _output.RemoveFirst();
            }
        }
    }
}
