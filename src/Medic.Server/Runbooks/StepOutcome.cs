using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Contracts.Agent;

namespace Medic.Server.Runbooks;

/// <summary>How one step ended, before its output is capped and it is stored.</summary>
internal sealed record StepOutcome(RunbookStepStatus Status, int? ExitCode, string Stdout, string Stderr, bool Truncated, string? Reason)
{
    public static StepOutcome Ok(string stdout = "", string? reason = null) => new(RunbookStepStatus.Ok, null, stdout, "", false, reason);

    public static StepOutcome Fail(string reason, string stdout = "", RunbookStepStatus status = RunbookStepStatus.Failed) => new(status, null, stdout, "", false, reason);

    /// <summary>The outcome of a task a server ran: exit 0 passes, and the task's own statuses keep their names.</summary>
    public static StepOutcome FromTask(TaskRunResponse r) => r.Status switch
    {
        TaskRunStatus.Completed when r.ExitCode == 0 => new(RunbookStepStatus.Ok, 0, r.Stdout, r.Stderr, r.Truncated, null),
        TaskRunStatus.Completed => new(RunbookStepStatus.Failed, r.ExitCode, r.Stdout, r.Stderr, r.Truncated, $"exit {r.ExitCode}"),
        TaskRunStatus.Timeout => new(RunbookStepStatus.Timeout, r.ExitCode, r.Stdout, r.Stderr, r.Truncated, r.Reason),
        TaskRunStatus.Refused => new(RunbookStepStatus.Refused, null, r.Stdout, r.Stderr, r.Truncated, r.Reason),
        TaskRunStatus.Offline => new(RunbookStepStatus.Offline, null, r.Stdout, r.Stderr, r.Truncated, r.Reason),
        _ => new(RunbookStepStatus.Failed, r.ExitCode, r.Stdout, r.Stderr, r.Truncated, r.Reason),
    };

    /// <summary>This outcome, failed when it passed but its output does not match <paramref name="expectOutput"/> (when given).</summary>
    public StepOutcome Expect(string? expectOutput) =>
        Status == RunbookStepStatus.Ok && expectOutput is not null && !Matches(expectOutput, Stdout)
            ? this with { Status = RunbookStepStatus.Failed, Reason = $"the output does not match /{expectOutput}/" }
            : this;

    /// <summary>Whether <paramref name="text"/> matches the runbook's <paramref name="pattern"/>; a match that takes too long does not match.</summary>
    public static bool Matches(string pattern, string text)
    {
        try
        {
            return Regex.IsMatch(text, pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
