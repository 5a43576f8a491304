using Medic.Contracts.Agent;

namespace Medic.Agent.Monitors;

/// <summary>Where a monitor stands: ok, failing but not for long enough yet, firing, or passing but not for long enough yet.</summary>
internal enum MonitorPhase
{
    Ok,
    Pending,
    Firing,
    Recovering,
}

/// <summary>What one check concluded.</summary>
internal enum Verdict
{
    /// <summary>Healthy (and, for metrics, below the recovery threshold).</summary>
    Pass,

    /// <summary>The condition the monitor watches for holds.</summary>
    Fail,

    /// <summary>Between the recovery and the firing threshold (or not sure yet): the phase does not move.</summary>
    Hold,
}

/// <summary>The outcome of one check: a verdict, one line for people, and what was measured.</summary>
/// <param name="Type">The incident type when it is not the kind's usual one (a cpu monitor that found one process behind the load: process_runaway).</param>
internal sealed record Observation(Verdict Verdict, string Summary, IReadOnlyDictionary<string, string>? Evidence = null, MonitorSeverity? Severity = null, string? Type = null)
{
    public static Observation Pass(string summary, IReadOnlyDictionary<string, string>? evidence = null) => new(Verdict.Pass, summary, evidence);

    public static Observation Fail(string summary, IReadOnlyDictionary<string, string>? evidence = null, MonitorSeverity? severity = null) => new(Verdict.Fail, summary, evidence, severity);

    public static Observation Hold(string summary, IReadOnlyDictionary<string, string>? evidence = null) => new(Verdict.Hold, summary, evidence);
}

/// <param name="Since">When the current phase began.</param>
/// <param name="Passes">Consecutive passing checks while recovering.</param>
/// <param name="Severity">The severity the incident was opened or last updated with.</param>
internal readonly record struct MonitorState(MonitorPhase Phase, DateTimeOffset Since, int Passes, MonitorSeverity? Severity)
{
    public static MonitorState Initial(DateTimeOffset now) => new(MonitorPhase.Ok, now, 0, null);

    /// <summary>An incident is open: firing, or firing and recovering.</summary>
    public bool IsOpen => Phase is MonitorPhase.Firing or MonitorPhase.Recovering;
}

/// <summary>What a step of the state machine asks the runner to report.</summary>
internal enum Transition
{
    None,
    Opened,

    /// <summary>Still firing, at another severity.</summary>
    SeverityChanged,
    Resolved,
}

internal sealed record MonitorRules(TimeSpan For, int RecoverAfter, MonitorSeverity Severity)
{
    public static MonitorRules From(MonitorDefinition d) => new(TimeSpan.FromSeconds(d.ForSeconds), Math.Max(1, d.RecoverAfter), d.Severity);
}

/// <summary>
/// The monitor state machine: ok → pending → firing → recovering → ok. A failing check moves ok to
/// pending and fires once the failure has held for <c>for</c>; a passing check moves firing to
/// recovering and resolves after <c>recover_after</c> consecutive passes. A hold (the hysteresis
/// band) keeps a firing monitor firing and breaks a run of passes; a pending one goes back to ok,
/// since its condition no longer holds. A pure function of its inputs.
/// </summary>
internal static class MonitorEvaluator
{
    public static (MonitorState State, Transition Transition) Next(MonitorState state, Observation observation, MonitorRules rules, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var severity = observation.Severity ?? rules.Severity;
        switch (state.Phase, observation.Verdict)
        {
            case (MonitorPhase.Ok, Verdict.Fail):
                return rules.For <= TimeSpan.Zero
                    ? (new MonitorState(MonitorPhase.Firing, now, 0, severity), Transition.Opened)
                    : (new MonitorState(MonitorPhase.Pending, now, 0, null), Transition.None);

            case (MonitorPhase.Pending, Verdict.Fail):
                return now - state.Since >= rules.For
                    ? (new MonitorState(MonitorPhase.Firing, now, 0, severity), Transition.Opened)
                    : (state, Transition.None);

            case (MonitorPhase.Pending, Verdict.Pass or Verdict.Hold):
                return (new MonitorState(MonitorPhase.Ok, now, 0, null), Transition.None);

            case (MonitorPhase.Firing or MonitorPhase.Recovering, Verdict.Fail):
                var back = state with { Phase = MonitorPhase.Firing, Passes = 0, Since = state.Phase == MonitorPhase.Firing ? state.Since : now };
                return severity != state.Severity
                    ? (back with { Severity = severity }, Transition.SeverityChanged)
                    : (back, Transition.None);

            case (MonitorPhase.Firing or MonitorPhase.Recovering, Verdict.Pass):
                var passes = state.Passes + 1;
                return passes >= rules.RecoverAfter
                    ? (new MonitorState(MonitorPhase.Ok, now, 0, null), Transition.Resolved)
                    : (new MonitorState(MonitorPhase.Recovering, state.Phase == MonitorPhase.Recovering ? state.Since : now, passes, state.Severity), Transition.None);

            case (MonitorPhase.Recovering, Verdict.Hold):
                return (state with { Phase = MonitorPhase.Firing, Passes = 0, Since = now }, Transition.None);

            default:
                // Ok with a pass or hold, firing with a hold: nothing moves.
                return (state, Transition.None);
        }
    }

    /// <summary>Marks a firing monitor resolved from outside the checks (the ladder healed it).</summary>
    public static MonitorState Healed(TimeProvider time) => MonitorState.Initial(time.GetUtcNow());
}

/// <summary>The ladder's budget: at most <c>max_restarts</c> restarts within any <c>window</c>.</summary>
internal static class RestartBudget
{
    public static bool CanRestart(IEnumerable<DateTimeOffset> restarts, int maxRestarts, TimeSpan window, DateTimeOffset now) =>
        restarts.Count(at => now - at < window) < maxRestarts;
}
