using System.Diagnostics;
using System.Globalization;
using System.Text;
using Medic.Contracts.Agent;

namespace Medic.Agent.Monitors;

/// <summary>One restart the ladder made, for the evidence.</summary>
internal sealed record RestartRecord(DateTimeOffset At, string Reason, string Outcome);

/// <param name="Healed">The process is healthy again.</param>
/// <param name="Attempts">Restarts made in this call.</param>
/// <param name="Retry">Why this call was a retry after giving up (a watched file changed, or the periodic retry), or null.</param>
internal sealed record HealOutcome(bool Healed, int Attempts, TimeSpan Took, IReadOnlyDictionary<string, string> Evidence, string? Retry = null);

/// <summary>
/// The self-healing ladder of one process monitor: kill it if it is hung, restart it, health-check
/// it (<c>retries</c> checks <c>delay</c> apart), and try again, waiting <c>backoff</c> doubling up
/// to <c>backoff_max</c> between restarts that did not make it healthy, until it is healthy or the
/// budget of <c>max_restarts</c> within <c>window</c> is spent; then give up, so the incident goes
/// to people (or the pipeline) with the evidence: exit status, last log lines, the likely cause,
/// every restart made. After giving up it makes one more restart every <c>retry_after</c>, and at
/// once when a watched file changes (the config a person fixes, the unit file, the program).
/// </summary>
internal sealed class HealLadder(MonitorDefinition definition, ProcessCheck check, TimeProvider time, Action<string> log)
{
    public const string RetryKey = "retry";
    public const string ChangedKey = "changed_files";
    private const int KeptHistory = 50;
    private readonly HealDefinition _heal = definition.Heal ?? new HealDefinition();
    private readonly List<RestartRecord> _history = [];
    private WatchedFiles? _watched;
    private DateTimeOffset _nextRetry = DateTimeOffset.MaxValue;
    private readonly Lock _requestLock = new();
    private (string Why, TaskCompletionSource<bool> Done)? _requested;

    /// <summary>The budget was spent: no more restarts until the process is healthy again, a watched file changes or <c>retry_after</c> passes.</summary>
    public bool GaveUp { get; private set; }

    public IReadOnlyList<RestartRecord> History => _history;

    /// <summary>What a ladder that gave up watches for a fix (empty before it gives up).</summary>
    public IReadOnlyCollection<string> Watched => _watched?.Paths ?? [];

    /// <summary>The process was seen healthy again: a later failure may be healed anew.</summary>
    public void Reset()
    {
        GaveUp = false;
        _watched = null;
        _nextRetry = DateTimeOffset.MaxValue;
        Answer(null, healed: true);
    }

    /// <summary>
    /// After giving up: one more restart on the next tick, for <paramref name="why"/> (a fix was just
    /// made); completes with whether it healed. True at once when the ladder has not given up.
    /// </summary>
    public Task<bool> RequestRetry(string why)
    {
        lock (_requestLock)
        {
            if (!GaveUp) return Task.FromResult(true);
            _requested?.Done.TrySetResult(false);
            _requested = (why, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
            return _requested.Value.Done.Task;
        }
    }

    private void Answer(string? why, bool healed)
    {
        lock (_requestLock)
        {
            if (_requested is not { } r || (why is not null && r.Why != why)) return;
            _requested = null;
            r.Done.TrySetResult(healed);
        }
    }

    /// <summary>The wait before restart number <paramref name="attempt"/> of one heal: none before the first, then backoff doubling to backoff_max.</summary>
    internal static TimeSpan Backoff(HealDefinition heal, int attempt)
    {
        if (attempt <= 1 || heal.BackoffSeconds <= 0) return TimeSpan.Zero;
        var seconds = heal.BackoffSeconds * Math.Pow(2, Math.Min(attempt - 2, 30));
        return TimeSpan.FromSeconds(Math.Min(seconds, Math.Max(heal.BackoffMaxSeconds, heal.BackoffSeconds)));
    }

    /// <summary>
    /// After giving up: why to try once more now (a watched file changed, or <c>retry_after</c>
    /// passed), or null. Called on every monitor tick while the process stays down.
    /// </summary>
    public string? RetryReason(out IReadOnlyList<string> changed)
    {
        changed = [];
        if (!GaveUp) return null;
        lock (_requestLock)
        {
            if (_requested is { } requested) return requested.Why;
        }

        if (_watched?.Changed() is { Count: > 0 } files)
        {
            changed = files;
            return $"{string.Join(", ", files)} changed";
        }

        return time.GetUtcNow() >= _nextRetry ? $"the periodic retry (retry_after {Units.Describe(_heal.RetryAfterSeconds)})" : null;
    }

    /// <summary>One restart after giving up (outside the budget): healed, or given up again until the next change or retry_after.</summary>
    public async Task<HealOutcome> RetryAsync(Observation failing, string why, IReadOnlyList<string> changed, CancellationToken ct)
    {
        log($"{definition.Name}: retrying after giving up: {why}");
        var outcome = await HealAsync(failing, maxAttempts: 1, ct);
        var evidence = new Dictionary<string, string>(outcome.Evidence, StringComparer.Ordinal) { [RetryKey] = why };
        if (changed.Count > 0) evidence[ChangedKey] = string.Join(", ", changed);
        if (!outcome.Healed) evidence[EvidenceKeys.Ladder] = EvidenceKeys.RetryFailed;
        if (!outcome.Healed) Answer(why, healed: false); // a healed one answers through Reset
        return outcome with { Evidence = evidence, Retry = why };
    }

    public Task<HealOutcome> HealAsync(Observation failing, CancellationToken ct) => HealAsync(failing, int.MaxValue, ct);

    private async Task<HealOutcome> HealAsync(Observation failing, int maxAttempts, CancellationToken ct)
    {
        var target = check.Target;
        var clock = Stopwatch.StartNew();
        var window = TimeSpan.FromSeconds(_heal.WindowSeconds);
        var delay = TimeSpan.FromSeconds(_heal.DelaySeconds);
        var reason = failing.Summary;
        var hung = failing.Evidence?.ContainsKey(ProcessCheck.HungKey) == true;
        var lastEvidence = failing.Evidence ?? new Dictionary<string, string>();
        var attempts = 0;

        // Taken before the first restart, so a fix made while the ladder still climbs counts as a change once it gives up.
        _watched ??= new WatchedFiles([.. _heal.Watch ?? [], .. await target.OwnFilesAsync(ct)]);
        while (true)
        {
            var now = time.GetUtcNow();
            var retrying = maxAttempts != int.MaxValue;
            if (attempts >= maxAttempts || (!retrying && !RestartBudget.CanRestart(_history.Select(h => h.At), _heal.MaxRestarts, window, now)))
            {
                GaveUp = true;
                _nextRetry = _heal.RetryAfterSeconds > 0 ? now + TimeSpan.FromSeconds(_heal.RetryAfterSeconds) : DateTimeOffset.MaxValue;
                var recent = _history.Count(h => now - h.At < window);
                var evidence = await EvidenceAsync(lastEvidence, ct, cause: true);
                evidence[EvidenceKeys.Ladder] = EvidenceKeys.GaveUp;
                evidence["gave_up_because"] = $"{recent} restarts within {Units.Describe(window.TotalSeconds)} (max_restarts {_heal.MaxRestarts})";
                evidence[EvidenceKeys.NextRetry] = NextRetryText();
                if (!retrying) log($"{definition.Name}: giving up: {recent} restarts within {Units.Describe(window.TotalSeconds)} did not keep it healthy; {NextRetryText()}");
                return new HealOutcome(false, attempts, clock.Elapsed, evidence);
            }

            if (Backoff(_heal, attempts + 1) is { Ticks: > 0 } wait)
            {
                log($"{definition.Name}: waiting {Units.Describe(wait.TotalSeconds)} before restart {attempts + 1} (backoff)");
                await Task.Delay(wait, time, ct);

                // It may have come back meanwhile (systemd's own Restart=, a person): then no restart is needed.
                var meanwhile = await check.ObserveAsync(strict: true, ct);
                if (meanwhile.Verdict == Verdict.Pass)
                {
                    var evidence = await EvidenceAsync(lastEvidence, ct);
                    evidence[EvidenceKeys.Resolution] = EvidenceKeys.HealedLocally;
                    evidence["healed_in_seconds"] = clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
                    evidence["now"] = meanwhile.Summary;
                    Reset();
                    return new HealOutcome(true, attempts, clock.Elapsed, evidence);
                }

                if (meanwhile.Evidence is { } seenMeanwhile) lastEvidence = seenMeanwhile;
                now = time.GetUtcNow();
            }

            if (hung)
            {
                log($"{definition.Name}: killing the hung process (SIGKILL to its group)");
                await target.KillAsync(ct);
            }

            attempts++;
            log($"{definition.Name}: restart {attempts} ({reason})");
            var error = await target.RestartAsync(ct);
            Observation? last = null;
            var startedAt = Stopwatch.StartNew();
            if (error is null)
            {
                for (var i = 0; i < _heal.Retries; i++)
                {
                    await Task.Delay(delay, time, ct);
                    last = await check.ObserveAsync(strict: true, ct);
                    if (last.Verdict == Verdict.Pass) break;
                    if (last.Evidence?.ContainsKey(EvidenceKeys.ExitStatus) == true) break; // our child already died: no point waiting
                }
            }

            var healthy = last?.Verdict == Verdict.Pass;
            var outcome = error ?? (healthy
                ? $"healthy after {startedAt.Elapsed.TotalSeconds:0.0} s"
                : $"not healthy after {startedAt.Elapsed.TotalSeconds:0.0} s: {last?.Summary}");
            _history.Add(new RestartRecord(now, reason, outcome));
            if (_history.Count > KeptHistory) _history.RemoveAt(0);
            log($"{definition.Name}: restart {attempts}: {outcome}");
            if (healthy)
            {
                var evidence = await EvidenceAsync(lastEvidence, ct);
                evidence[EvidenceKeys.Resolution] = EvidenceKeys.HealedLocally;
                evidence["healed_in_seconds"] = clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
                evidence["now"] = last!.Summary;
                Reset();
                return new HealOutcome(true, attempts, clock.Elapsed, evidence);
            }

            reason = error ?? last?.Summary ?? "unhealthy";
            if (last?.Evidence is { } seen) lastEvidence = seen;
            hung = last?.Evidence?.ContainsKey("health") == true && last.Evidence.ContainsKey("pid") && !last.Evidence.ContainsKey(EvidenceKeys.ExitStatus);
        }
    }

    private string NextRetryText()
    {
        var watched = _watched is { Paths.Count: > 0 } w ? $"at once when {string.Join(", ", w.Paths)} change{(w.Paths.Count == 1 ? "s" : "")}" : null;
        var periodic = _heal.RetryAfterSeconds > 0 ? $"every {Units.Describe(_heal.RetryAfterSeconds)}" : null;
        return (watched, periodic) switch
        {
            (null, null) => "no more restarts until it is healthy again (retry_after is off and nothing is watched)",
            (null, { } p) => $"retrying {p}",
            ({ } c, null) => $"retrying {c}",
            ({ } c, { } p) => $"retrying {p}, and {c}",
        };
    }

    /// <summary>What was seen, plus the restart history, the process's last log lines and (on a give-up) their likely cause.</summary>
    private async Task<Dictionary<string, string>> EvidenceAsync(IReadOnlyDictionary<string, string> seen, CancellationToken ct, bool cause = false)
    {
        var evidence = new Dictionary<string, string>(seen, StringComparer.Ordinal)
        {
            [EvidenceKeys.Restarts] = _history.Count.ToString(CultureInfo.InvariantCulture),
            [EvidenceKeys.RestartHistory] = FormatHistory(_history),
        };
        // The likely cause reads more lines than the evidence shows: a crash loop repeats its start-up banner.
        var lines = await check.Target.LastLinesAsync(cause ? 100 : 20, ct);
        if (lines.Length > 0) evidence[EvidenceKeys.LastLines] = string.Join('\n', lines.Split('\n').TakeLast(20));
        if (cause) LikelyCause.AddTo(evidence, lines + "\n" + evidence.GetValueOrDefault(EvidenceKeys.ExitStatus), definition);
        return evidence;
    }

    internal static string FormatHistory(IEnumerable<RestartRecord> history)
    {
        var text = new StringBuilder();
        foreach (var record in history.TakeLast(10))
        {
            text.Append(record.At.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append(": restarted (").Append(record.Reason).Append(") -> ").AppendLine(record.Outcome);
        }

        return text.ToString().TrimEnd();
    }
}
