using System.Collections.Concurrent;

namespace Medic.Server.Ai.Providers;

/// <summary>
/// A circuit breaker per endpoint (base URL and model): after <see cref="Threshold"/> consecutive
/// failures the endpoint is skipped for <see cref="OpenFor"/>; then one trial call is let through
/// (half-open): success closes it, failure opens it again.
/// </summary>
internal sealed class CircuitBreakers(TimeProvider time)
{
    public const int Threshold = 3;
    public static readonly TimeSpan OpenFor = TimeSpan.FromSeconds(30);

    private sealed class State
    {
        public int Failures;
        public DateTimeOffset OpenUntil;
        public bool TrialInFlight;
    }

    private readonly ConcurrentDictionary<string, State> _states = new(StringComparer.Ordinal);

    /// <summary>Whether a call to <paramref name="endpoint"/> may go now; a true answer in the half-open state claims the one trial.</summary>
    public bool TryEnter(string endpoint)
    {
        var state = _states.GetOrAdd(endpoint, _ => new State());
        lock (state)
        {
            if (state.Failures < Threshold) return true;
            if (time.GetUtcNow() < state.OpenUntil || state.TrialInFlight) return false;
            state.TrialInFlight = true;
            return true;
        }
    }

    public void Succeeded(string endpoint)
    {
        if (!_states.TryGetValue(endpoint, out var state)) return;
        lock (state)
        {
            state.Failures = 0;
            state.TrialInFlight = false;
        }
    }

    public void Failed(string endpoint)
    {
        var state = _states.GetOrAdd(endpoint, _ => new State());
        lock (state)
        {
            state.Failures++;
            state.TrialInFlight = false;
            if (state.Failures >= Threshold) state.OpenUntil = time.GetUtcNow() + OpenFor;
        }
    }

    /// <summary>A call that was let through ended without a verdict on the endpoint (the caller cancelled it, or it answered 400).</summary>
    public void Released(string endpoint)
    {
        if (!_states.TryGetValue(endpoint, out var state)) return;
        lock (state)
        {
            state.TrialInFlight = false;
        }
    }

    public bool IsOpen(string endpoint)
    {
        if (!_states.TryGetValue(endpoint, out var state)) return false;
        lock (state)
        {
            return state.Failures >= Threshold && time.GetUtcNow() < state.OpenUntil;
        }
    }
}
