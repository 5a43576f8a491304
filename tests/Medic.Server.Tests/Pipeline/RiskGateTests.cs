using Medic.Contracts;
using Medic.Server.Pipeline;
using Medic.Server.Runbooks;

namespace Medic.Server.Tests.Pipeline;

/// <summary>The risk gate: only autonomous actors auto-run low recipes, within limits; everything else waits or escalates.</summary>
public sealed class RiskGateTests
{
    private static readonly GateContext Calm = new(AutoRunsLastHour: 0, BlastRadiusPerHour: 10, RecentFailuresOfRecipeOnServer: 0, InChangeWindow: false);

    public static TheoryData<Risk, Trust> EveryRiskAndTrust()
    {
        var data = new TheoryData<Risk, Trust>();
        foreach (var r in Enum.GetValues<Risk>())
        {
            foreach (var t in Enum.GetValues<Trust>()) data.Add(r, t);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryRiskAndTrust))]
    public void Only_an_autonomous_actor_auto_runs_and_only_a_low_recipe(Risk risk, Trust trust)
    {
        var decision = RiskGate.Decide(risk, trust, Calm);

        decision.Outcome.ShouldBe(risk == Risk.Low && trust == Trust.Autonomous ? GateOutcome.AutoRun : GateOutcome.NeedsApproval);
        decision.Reason.ShouldNotBeNullOrWhiteSpace();
    }

    [Theory]
    [MemberData(nameof(EveryRiskAndTrust))]
    public void Two_failures_of_the_recipe_on_the_server_stop_automation_whatever_the_trust(Risk risk, Trust trust)
    {
        var decision = RiskGate.Decide(risk, trust, Calm with { RecentFailuresOfRecipeOnServer = 2 });

        decision.Outcome.ShouldBe(GateOutcome.Escalate);
        decision.Reason.ShouldContain("circuit breaker");
    }

    [Fact]
    public void One_failure_does_not_open_the_circuit() =>
        RiskGate.Decide(Risk.Low, Trust.Autonomous, Calm with { RecentFailuresOfRecipeOnServer = 1 }).Outcome.ShouldBe(GateOutcome.AutoRun);

    [Fact]
    public void A_change_window_or_a_spent_blast_radius_sends_even_a_low_autonomous_run_to_an_approver()
    {
        RiskGate.Decide(Risk.Low, Trust.Autonomous, Calm with { InChangeWindow = true }).ShouldBe(new GateDecision(GateOutcome.NeedsApproval, "a change window is open: nothing runs automatically"));
        var spent = RiskGate.Decide(Risk.Low, Trust.Autonomous, Calm with { AutoRunsLastHour = 10 });
        spent.Outcome.ShouldBe(GateOutcome.NeedsApproval);
        spent.Reason.ShouldContain("blast radius");
        RiskGate.Decide(Risk.Low, Trust.Autonomous, Calm with { AutoRunsLastHour = 9 }).Outcome.ShouldBe(GateOutcome.AutoRun);
    }

    [Fact]
    public void Nobody_approves_their_own_an_expired_or_an_already_decided_request()
    {
        var now = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
        RiskGate.CannotApprove("user:ann", "user:bob", now.AddMinutes(5), now, ApprovalStatus.Pending).ShouldBeNull();
        RiskGate.CannotApprove("user:ann", "user:ann", now.AddMinutes(5), now, ApprovalStatus.Pending).ShouldBe("nobody approves their own request");
        RiskGate.CannotApprove("user:ann", "user:bob", now, now, ApprovalStatus.Pending)!.ShouldStartWith("the request expired");
        RiskGate.CannotApprove("user:ann", "user:bob", now.AddMinutes(5), now, ApprovalStatus.Rejected).ShouldBe("the request was already rejected");
    }
}
