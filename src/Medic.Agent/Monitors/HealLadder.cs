using System.Diagnostics;
using System.Globalization;
using System.Text;
using Medic.Contracts.Agent;

namespace Medic.Agent.Monitors;

/// <summary>One restart the ladder made, for the evidence.</summary>
internal sealed record RestartRecord(DateTimeOffset At, string Reason, string Outcome);

/// <param name="Healed">The process is healthy again.</param>
/// <param name="Attempts">Restarts made in this call.</param>
internal sealed record HealOutcome(bool Healed, int Attempts, TimeSpan Took, IReadOnlyDictionary<string, string> Evidence);

/// <summary>
/// The self-healing ladder of one process monitor: kill it if it is hung, restart it, health-check
/// it (<c>retries</c> checks <c>delay</c> apart), and try again until it is healthy or the budget of
/// <c>max_restarts</c> within <c>window</c> is spent; then give up, so the incident goes to people
/// (or the pipeline) with the evidence: exit status, last log lines, every restart made.
/// </summary>
internal sealed class HealLadder(MonitorDefinition definition, ProcessCheck check, TimeProvider time, Action<string> log)
{
    private const int KeptHistory = 50;
    private readonly HealDefinition _heal = definition.Heal ?? new HealDefinition();
    private readonly List<RestartRecord> _history = [];

    /// <summary>The budget was spent: no more restarts until the process is healthy again.</summary>
    public bool GaveUp { get; private set; }

    public IReadOnlyList<RestartRecord> History => _history;

    /// <summary>The process was seen healthy again: a later failure may be healed anew.</summary>
    public void Reset() => GaveUp = false;

    public async Task<HealOutcome> HealAsync(Observation failing, CancellationToken ct)
    {
        var target = check.Target;
        var clock = Stopwatch.StartNew();
        var window = TimeSpan.FromSeconds(_heal.WindowSeconds);
        var delay = TimeSpan.FromSeconds(_heal.DelaySeconds);
        var reason = failing.Summary;
        var hung = failing.Evidence?.ContainsKey(ProcessCheck.HungKey) == true;
        var lastEvidence = failing.Evidence ?? new Dictionary<string, string>();
        var attempts = 0;
        while (true)
        {
            var now = time.GetUtcNow();
            if (!RestartBudget.CanRestart(_history.Select(h => h.At), _heal.MaxRestarts, window, now))
            {
                GaveUp = true;
                var recent = _history.Count(h => now - h.At < window);
                log($"{definition.Name}: giving up: {recent} restarts within {Units.Describe(window.TotalSeconds)} did not keep it healthy");
                var evidence = await EvidenceAsync(lastEvidence, ct);
                evidence[EvidenceKeys.Ladder] = EvidenceKeys.GaveUp;
                evidence["gave_up_because"] = $"{recent} restarts within {Units.Describe(window.TotalSeconds)} (max_restarts {_heal.MaxRestarts})";
                return new HealOutcome(false, attempts, clock.Elapsed, evidence);
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
                return new HealOutcome(true, attempts, clock.Elapsed, evidence);
            }

            reason = error ?? last?.Summary ?? "unhealthy";
            if (last?.Evidence is { } seen) lastEvidence = seen;
            hung = last?.Evidence?.ContainsKey("health") == true && last.Evidence.ContainsKey("pid") && !last.Evidence.ContainsKey(EvidenceKeys.ExitStatus);
        }
    }

    /// <summary>What was seen, plus the restart history and the process's last log lines.</summary>
    private async Task<Dictionary<string, string>> EvidenceAsync(IReadOnlyDictionary<string, string> seen, CancellationToken ct)
    {
        var evidence = new Dictionary<string, string>(seen, StringComparer.Ordinal)
        {
            [EvidenceKeys.Restarts] = _history.Count.ToString(CultureInfo.InvariantCulture),
            [EvidenceKeys.RestartHistory] = FormatHistory(_history),
        };
        if (await check.Target.LastLinesAsync(20, ct) is { Length: > 0 } lines) evidence[EvidenceKeys.LastLines] = lines;
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
