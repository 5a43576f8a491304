using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Execution;

/// <summary>
/// How a task ended. <c>ExitCode</c> is the process's own (128 + N when a signal killed it), null when
/// it never ran or was killed for timing out; <c>Reason</c> says in one line why it is not a plain
/// completion.
/// </summary>
internal sealed record ProcessOutcome(TaskStatus Status, int? ExitCode, long DurationMs, bool Truncated, string? Reason);
