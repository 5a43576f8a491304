using Medic.Server.Incidents;
using Medic.Contracts;
using S = Medic.Contracts.IncidentStatus;
using T = Medic.Server.Incidents.IncidentTrigger;

namespace Medic.Server.Tests.Incidents;

/// <summary>The state machine, checked for every status and every trigger against the table of DESIGN §6.</summary>
public sealed class IncidentLifecycleTests
{
    /// <summary>Every allowed move. Anything not listed must be refused.</summary>
    private static readonly (S From, T Trigger, S To)[] Allowed =
    [
        (S.Open, T.StartTriage, S.Triaging),
        (S.Triaging, T.StartDiagnosis, S.Diagnosing),
        (S.Triaging, T.ProposeRecipe, S.RecipeProposed),
        (S.Diagnosing, T.ProposeRecipe, S.RecipeProposed),
        (S.RecipeProposed, T.RequestApproval, S.AwaitingApproval),
        (S.RecipeProposed, T.AutoApprove, S.Executing),
        (S.AwaitingApproval, T.Approve, S.Executing),
        (S.AwaitingApproval, T.Reject, S.Escalated),
        (S.AwaitingApproval, T.ApprovalExpired, S.Escalated),
        (S.Executing, T.StartVerification, S.Verifying),
        (S.Executing, T.RemediationFailed, S.Failed),
        (S.Verifying, T.RemediationFailed, S.Failed),
        (S.Verifying, T.VerificationPassed, S.Resolved),
        (S.Verifying, T.VerificationFailed, S.Failed),
        (S.Failed, T.Escalate, S.Escalated),
        (S.Open, T.Escalate, S.Escalated),
        (S.Triaging, T.Escalate, S.Escalated),
        (S.Diagnosing, T.Escalate, S.Escalated),
        (S.RecipeProposed, T.Escalate, S.Escalated),
        (S.Escalated, T.Comment, S.Triaging),
        (S.Resolved, T.Reopen, S.Open),
        .. Enum.GetValues<S>().Where(s => s != S.Resolved).Select(s => (s, T.ResolveManually, S.Resolved)),
        .. Enum.GetValues<S>().Where(s => s is not (S.Resolved or S.Executing or S.Verifying)).Select(s => (s, T.SourceResolved, S.Resolved)),
    ];

    public static TheoryData<S, T> EveryPair()
    {
        var data = new TheoryData<S, T>();
        foreach (var s in Enum.GetValues<S>())
        {
            foreach (var t in Enum.GetValues<T>()) data.Add(s, t);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void Each_trigger_moves_each_status_exactly_as_the_table_says(S from, T trigger)
    {
        var expected = Allowed.Where(a => a.From == from && a.Trigger == trigger).Select(a => (S?)a.To).SingleOrDefault();

        var (to, refusal) = IncidentLifecycle.Next(from, trigger);

        to.ShouldBe(expected);
        if (expected is null) refusal.ShouldNotBeNullOrWhiteSpace();
        else refusal.ShouldBeNull();
    }

    [Fact]
    public void The_happy_path_and_the_failure_path_walk_through()
    {
        S Walk(S start, params T[] triggers) => triggers.Aggregate(start, (s, t) => IncidentLifecycle.Next(s, t).To ?? throw new ShouldAssertException($"{t} refused in {s}"));

        Walk(S.Open, T.StartTriage, T.StartDiagnosis, T.ProposeRecipe, T.RequestApproval, T.Approve, T.StartVerification, T.VerificationPassed).ShouldBe(S.Resolved);
        Walk(S.Open, T.StartTriage, T.ProposeRecipe, T.AutoApprove, T.StartVerification, T.VerificationFailed, T.Escalate, T.Comment).ShouldBe(S.Triaging);
    }

    [Fact]
    public void A_source_resolving_during_a_remediation_is_refused_with_the_reason()
    {
        IncidentLifecycle.Next(S.Executing, T.SourceResolved).Refusal.ShouldBe("a remediation is running; its verification decides");
        IncidentLifecycle.Next(S.Resolved, T.Approve).Refusal.ShouldBe("the incident is resolved; it can only be reopened");
        IncidentLifecycle.Allowed(S.Resolved).ShouldBe([T.Reopen]);
    }

    [Fact]
    public void Status_names_round_trip_in_snake_case()
    {
        foreach (var s in Enum.GetValues<S>())
        {
            StateText.Parse<S>(s.ToText()).ShouldBe(s);
        }

        S.AwaitingApproval.ToText().ShouldBe("awaiting_approval");
        S.RecipeProposed.ToText().ShouldBe("recipe_proposed");
    }
}
