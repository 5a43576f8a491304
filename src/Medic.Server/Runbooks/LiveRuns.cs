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
    private readonly ConcurrentDictionary<string, List<Channel<RunbookRunEvent>>> _watchers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    /// <summary>Lets watchers subscribe to run <paramref name="id"/>: call before it starts.</summary>
    public void Open(string id) => _watchers[id] = [];

    public void Track(string id, Task run) => _running[id] = run;

    public ChannelReader<RunbookRunEvent>? Subscribe(string id)
    {
        if (!_watchers.TryGetValue(id, out var watchers)) return null;
        var channel = Channel.CreateBounded<RunbookRunEvent>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (watchers) watchers.Add(channel);
        return channel.Reader;
    }

    public void Publish(string id, RunbookRunEvent e)
    {
        if (_watchers.TryGetValue(id, out var watchers))
        {
            lock (watchers)
            {
                foreach (var w in watchers) w.Writer.TryWrite(e);
            }
        }
    }

    /// <summary>Run <paramref name="id"/> has ended (its status is stored): its watchers get the last event and their feeds close; waiters are let go.</summary>
    public void Finish(string id, RunbookRunStatus status)
    {
        Publish(id, new RunbookRunEvent("finished", Status: status));
        if (_watchers.TryRemove(id, out var watchers))
        {
            lock (watchers)
            {
                foreach (var w in watchers) w.Writer.TryComplete();
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
}
