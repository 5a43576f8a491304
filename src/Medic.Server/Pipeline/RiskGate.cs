using Medic.Contracts;
using Medic.Server.Runbooks;

namespace Medic.Server.Pipeline;

/// <summary>How far an actor (a triage rule set, an AI agent) is trusted to act without a person.</summary>
public enum Trust
{
    /// <summary>May run low-risk recipes on its own.</summary>
    Autonomous,

    /// <summary>Proposes; a person approves every run.</summary>
    Supervised,

    /// <summary>Only suggests; nothing is even proposed for approval without a person asking.</summary>
    Manual,
}

internal enum GateOutcome { AutoRun, NeedsApproval, Escalate }

/// <summary>What the gate knows about the moment: recent automation and failures on this server and tenant.</summary>
/// <param name="AutoRunsLastHour">Remediations this tenant ran without a person in the last hour.</param>
/// <param name="BlastRadiusPerHour">The tenant's limit on those.</param>
/// <param name="RecentFailuresOfRecipeOnServer">Failed runs of this recipe on this server in the last 24 h.</param>
/// <param name="InChangeWindow">A change window is open: nothing runs automatically.</param>
internal sealed record GateContext(int AutoRunsLastHour, int BlastRadiusPerHour, int RecentFailuresOfRecipeOnServer, bool InChangeWindow);

internal sealed record GateDecision(GateOutcome Outcome, string Reason);

/// <summary>
/// Decides, in server-side code and never in a model, whether a proposed remediation may run on
/// its own, must wait for an approver, or must go to a person outright (DESIGN §6).
/// </summary>
internal static class RiskGate
{
    /// <summary>The same recipe failing this many times on a server within 24 h stops automation there.</summary>
    public const int CircuitBreakerFailures = 2;

    public static GateDecision Decide(Risk risk, Trust trust, GateContext context)
    {
        if (context.RecentFailuresOfRecipeOnServer >= CircuitBreakerFailures)
        {
            return new(GateOutcome.Escalate, $"circuit breaker: this recipe failed {context.RecentFailuresOfRecipeOnServer} times on this server in the last 24 h");
        }

        if (trust == Trust.Manual)
        {
            return new(GateOutcome.NeedsApproval, "the proposing actor has manual trust: a person decides");
        }

        if (risk != Risk.Low)
        {
            return new(GateOutcome.NeedsApproval, $"{risk.ToString().ToLowerInvariant()} risk: an approver must agree");
        }

        if (trust != Trust.Autonomous)
        {
            return new(GateOutcome.NeedsApproval, "the proposing actor is supervised: an approver must agree");
        }

        if (context.InChangeWindow)
        {
            return new(GateOutcome.NeedsApproval, "a change window is open: nothing runs automatically");
        }

        if (context.AutoRunsLastHour >= context.BlastRadiusPerHour)
        {
            return new(GateOutcome.NeedsApproval, $"blast radius: {context.AutoRunsLastHour} automatic remediations in the last hour (limit {context.BlastRadiusPerHour})");
        }

        return new(GateOutcome.AutoRun, "low risk, autonomous actor, within limits");
    }

    /// <summary>Whether <paramref name="approver"/> may decide a request made by <paramref name="requester"/>: never one's own.</summary>
    public static string? CannotApprove(string requester, string approver, DateTimeOffset expiresAt, DateTimeOffset now, ApprovalStatus status)
    {
        if (status != ApprovalStatus.Pending) return $"the request was already {status.ToText()}";
        if (now >= expiresAt) return $"the request expired at {expiresAt:yyyy-MM-dd HH:mm:ss} UTC";
        if (string.Equals(requester, approver, StringComparison.Ordinal)) return "nobody approves their own request";
        if (string.Equals(PersonOf(requester), approver, StringComparison.Ordinal)) return "nobody approves their own request, nor what their own AI client (MCP, medic ask) proposed";
        return null;
    }

    /// <summary>The person an actor acts for: an MCP client (<c>mcp:NAME</c>) and a <c>medic ask</c> session (<c>ai:ask:NAME</c>) act for that user.</summary>
    public static string PersonOf(string actor) =>
        actor.StartsWith("mcp:", StringComparison.Ordinal) ? "user:" + actor["mcp:".Length..]
        : actor.StartsWith("ai:ask:", StringComparison.Ordinal) ? "user:" + actor["ai:ask:".Length..]
        : actor;
}
