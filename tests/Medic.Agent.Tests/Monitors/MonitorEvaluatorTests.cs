using Medic.Agent.Monitors;
using Medic.Contracts.Agent;

namespace Medic.Agent.Tests.Monitors;

/// <summary>The monitor state machine, step by step, with a hand-moved clock.</summary>
public sealed class MonitorEvaluatorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Observation Pass = Observation.Pass("ok");
    private static readonly Observation Fail = Observation.Fail("down");
    private static readonly Observation Hold = Observation.Hold("in between");

    private static MonitorRules Rules(double forSeconds = 0, int recoverAfter = 1, MonitorSeverity severity = MonitorSeverity.Critical) =>
        new(TimeSpan.FromSeconds(forSeconds), recoverAfter, severity);

    private static (MonitorState, Transition) Step(MonitorState state, Observation o, MonitorRules rules, ManualTime time) =>
        MonitorEvaluator.Next(state, o, rules, time);

    [Fact]
    public void A_failure_with_no_for_duration_fires_at_once()
    {
        var time = new ManualTime(T0);
        var (state, transition) = Step(MonitorState.Initial(T0), Fail, Rules(), time);

        transition.ShouldBe(Transition.Opened);
        state.Phase.ShouldBe(MonitorPhase.Firing);
        state.Severity.ShouldBe(MonitorSeverity.Critical);
    }

    [Fact]
    public void A_failure_fires_only_once_it_has_held_for_the_for_duration()
    {
        var time = new ManualTime(T0);
        var rules = Rules(forSeconds: 30);
        var (state, t1) = Step(MonitorState.Initial(T0), Fail, rules, time);
        t1.ShouldBe(Transition.None);
        state.Phase.ShouldBe(MonitorPhase.Pending);

        time.Advance(TimeSpan.FromSeconds(29));
        (state, var t2) = Step(state, Fail, rules, time);
        t2.ShouldBe(Transition.None);
        state.Phase.ShouldBe(MonitorPhase.Pending);

        time.Advance(TimeSpan.FromSeconds(1));
        (state, var t3) = Step(state, Fail, rules, time);
        t3.ShouldBe(Transition.Opened);
        state.Phase.ShouldBe(MonitorPhase.Firing);
    }

    [Theory]
    [InlineData("pass")]
    [InlineData("hold")]
    public void A_pending_monitor_whose_condition_stops_holding_goes_back_to_ok_without_an_event(string next)
    {
        var time = new ManualTime(T0);
        var rules = Rules(forSeconds: 30);
        var (state, _) = Step(MonitorState.Initial(T0), Fail, rules, time);
        time.Advance(TimeSpan.FromSeconds(20));
        (state, var transition) = Step(state, next == "pass" ? Pass : Hold, rules, time);

        transition.ShouldBe(Transition.None);
        state.Phase.ShouldBe(MonitorPhase.Ok);

        // The for-duration starts again from the next failure.
        time.Advance(TimeSpan.FromSeconds(20));
        (state, transition) = Step(state, Fail, rules, time);
        transition.ShouldBe(Transition.None);
        state.Phase.ShouldBe(MonitorPhase.Pending);
    }

    [Fact]
    public void A_firing_monitor_resolves_after_recover_after_consecutive_passes()
    {
        var time = new ManualTime(T0);
        var rules = Rules(recoverAfter: 3);
        var (state, _) = Step(MonitorState.Initial(T0), Fail, rules, time);

        (state, var t1) = Step(state, Pass, rules, time);
        t1.ShouldBe(Transition.None);
        state.Phase.ShouldBe(MonitorPhase.Recovering);
        state.Passes.ShouldBe(1);
        (state, var t2) = Step(state, Pass, rules, time);
        t2.ShouldBe(Transition.None);
        (state, var t3) = Step(state, Pass, rules, time);
        t3.ShouldBe(Transition.Resolved);
        state.Phase.ShouldBe(MonitorPhase.Ok);
    }

    [Fact]
    public void A_failure_while_recovering_goes_back_to_firing_without_opening_again()
    {
        var time = new ManualTime(T0);
        var rules = Rules(recoverAfter: 2);
        var (state, _) = Step(MonitorState.Initial(T0), Fail, rules, time);
        (state, _) = Step(state, Pass, rules, time);
        (state, var transition) = Step(state, Fail, rules, time);

        transition.ShouldBe(Transition.None);
        state.Phase.ShouldBe(MonitorPhase.Firing);
        state.Passes.ShouldBe(0);
        (state, _) = Step(state, Pass, rules, time);
        state.Phase.ShouldBe(MonitorPhase.Recovering);
    }

    [Fact]
    public void A_hold_keeps_a_firing_monitor_firing_and_breaks_a_run_of_passes()
    {
        var time = new ManualTime(T0);
        var rules = Rules(recoverAfter: 2);
        var (state, _) = Step(MonitorState.Initial(T0), Fail, rules, time);
        (state, var t1) = Step(state, Hold, rules, time);
        t1.ShouldBe(Transition.None);
        state.Phase.ShouldBe(MonitorPhase.Firing);

        (state, _) = Step(state, Pass, rules, time);
        (state, var t2) = Step(state, Hold, rules, time);
        t2.ShouldBe(Transition.None);
        state.Phase.ShouldBe(MonitorPhase.Firing);
        state.Passes.ShouldBe(0);
    }

    [Theory]
    [InlineData("pass")]
    [InlineData("hold")]
    public void An_ok_monitor_stays_ok_on_a_pass_or_a_hold(string next)
    {
        var time = new ManualTime(T0);
        var (state, transition) = Step(MonitorState.Initial(T0), next == "pass" ? Pass : Hold, Rules(), time);

        transition.ShouldBe(Transition.None);
        state.Phase.ShouldBe(MonitorPhase.Ok);
    }

    [Fact]
    public void Repeated_failures_while_firing_report_nothing_new_until_the_severity_changes()
    {
        var time = new ManualTime(T0);
        var rules = Rules(severity: MonitorSeverity.Warning);
        var (state, _) = Step(MonitorState.Initial(T0), Observation.Fail("w", severity: MonitorSeverity.Warning), rules, time);
        (state, var same) = Step(state, Observation.Fail("w", severity: MonitorSeverity.Warning), rules, time);
        same.ShouldBe(Transition.None);

        (state, var worse) = Step(state, Observation.Fail("c", severity: MonitorSeverity.Critical), rules, time);
        worse.ShouldBe(Transition.SeverityChanged);
        state.Severity.ShouldBe(MonitorSeverity.Critical);
    }

    [Fact]
    public void The_observations_own_severity_wins_over_the_monitors()
    {
        var time = new ManualTime(T0);
        var (state, _) = Step(MonitorState.Initial(T0), Observation.Fail("nagios warning", severity: MonitorSeverity.Warning), Rules(), time);

        state.Severity.ShouldBe(MonitorSeverity.Warning);
    }

    [Fact]
    public void Every_phase_and_verdict_pair_lands_in_a_defined_phase()
    {
        var time = new ManualTime(T0);
        foreach (var phase in Enum.GetValues<MonitorPhase>())
        {
            foreach (var o in new[] { Pass, Fail, Hold })
            {
                var (state, transition) = Step(new MonitorState(phase, T0, 0, MonitorSeverity.Critical), o, Rules(forSeconds: 10, recoverAfter: 2), time);
                Enum.IsDefined(state.Phase).ShouldBeTrue();
                if (transition == Transition.Opened) phase.ShouldBeOneOf(MonitorPhase.Ok, MonitorPhase.Pending);
                if (transition == Transition.Resolved) phase.ShouldBeOneOf(MonitorPhase.Firing, MonitorPhase.Recovering);
            }
        }
    }

    [Fact]
    public void The_restart_budget_counts_only_restarts_inside_the_window()
    {
        var now = T0;
        var window = TimeSpan.FromMinutes(10);
        DateTimeOffset[] restarts = [now.AddMinutes(-11), now.AddMinutes(-5), now.AddMinutes(-1)];

        RestartBudget.CanRestart(restarts, maxRestarts: 3, window, now).ShouldBeTrue();
        RestartBudget.CanRestart(restarts, maxRestarts: 2, window, now).ShouldBeFalse();
        RestartBudget.CanRestart([], maxRestarts: 1, window, now).ShouldBeTrue();
    }

    [Theory]
    [InlineData(95, 90, null, "Fail")]
    [InlineData(90, 90, null, "Fail")]
    [InlineData(89.9, 90, null, "Pass")]
    [InlineData(87, 90, 85.0, "Hold")]
    [InlineData(84, 90, 85.0, "Pass")]
    public void Metric_thresholds_have_a_hysteresis_band(double value, double max, double? recoverBelow, string expected)
    {
        Threshold.Classify(value, max, recoverBelow).ToString().ShouldBe(expected);
    }
}
