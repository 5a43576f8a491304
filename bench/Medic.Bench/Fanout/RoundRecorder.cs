using System.Diagnostics;

namespace Medic.Bench.Fanout;

/// <summary>
/// When each simulated agent saw its offer and sent its result in the current round, on the
/// bench's monotonic clock, relative to the moment the bench sent POST /api/v1/exec.
/// </summary>
internal sealed class RoundRecorder(int agents)
{
    private readonly long[] _offerAt = new long[agents];
    private readonly long[] _resultAt = new long[agents];
    private long _postedAt;
    private int _offers;
    private int _results;
    private int _refusals;
    private TaskCompletionSource _allReplied = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Offers => Volatile.Read(ref _offers);

    public int Results => Volatile.Read(ref _results);

    public int Refusals => Volatile.Read(ref _refusals);

    /// <summary>Completes when every agent has sent this round's result.</summary>
    public Task AllReplied => _allReplied.Task;

    /// <summary>Starts a round; returns the timestamp to call POST at.</summary>
    public long Begin()
    {
        Array.Clear(_offerAt);
        Array.Clear(_resultAt);
        _offers = 0;
        _results = 0;
        _refusals = 0;
        _allReplied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _postedAt = Stopwatch.GetTimestamp();
        return _postedAt;
    }

    public void Offered(int agent, long at)
    {
        _offerAt[agent] = at;
        Interlocked.Increment(ref _offers);
    }

    public void Refused() => Interlocked.Increment(ref _refusals);

    public void Replied(int agent, long at)
    {
        _resultAt[agent] = at;
        if (Interlocked.Increment(ref _results) == _resultAt.Length) _allReplied.TrySetResult();
    }

    /// <summary>Milliseconds from POST to each agent's offer, for the agents that got one.</summary>
    public IEnumerable<double> OfferLatencies() => Since(_offerAt);

    /// <summary>Milliseconds from POST to each agent's result having been sent.</summary>
    public IEnumerable<double> ResultLatencies() => Since(_resultAt);

    public double LastResultMs() => ResultLatencies().DefaultIfEmpty(double.NaN).Max();

    private IEnumerable<double> Since(long[] at) =>
        at.Where(t => t != 0).Select(t => Stopwatch.GetElapsedTime(_postedAt, t).TotalMilliseconds).ToList();
}
