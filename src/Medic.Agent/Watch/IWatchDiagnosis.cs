using Medic.Agent.Monitors;
using Medic.Contracts.Agent;

namespace Medic.Agent.Watch;

/// <summary>
/// The AI rung of <c>medic watch</c>: one bounded diagnosis of a monitor the ladder gave up on, with
/// the read-only diagnostic verbs on this machine and at most one proposed fix. Implemented where a
/// model client exists (the CLI, src/Medic.Cli/Watch): this AOT agent stays free of the AI SDKs.
/// </summary>
internal interface IWatchDiagnosis : IDisposable
{
    Task<WatchDiagnosisResult> DiagnoseAsync(WatchDiagnosisRequest request, CancellationToken ct);
}

/// <param name="Redact">Applied to everything the model is sent: the watch file's secrets become [redacted].</param>
internal sealed record WatchDiagnosisRequest(
    string Host,
    MonitorDefinition Monitor,
    MonitorEvent Event,
    Func<string, string> Redact,
    int MaxTurns,
    TimeSpan Timeout,
    IReadOnlyList<string> Allow);

/// <summary>One tool call of a diagnosis, for the report: the tool, its arguments (redacted) and its error code, if any.</summary>
internal sealed record WatchToolCall(string Tool, string Arguments, string? Error, bool Reused = false);

/// <param name="Outcome">completed, max_turns, timed_out, stopped or provider_failed.</param>
internal sealed record WatchDiagnosisResult(
    string Model,
    string Outcome,
    string? Reason,
    int Turns,
    IReadOnlyList<WatchToolCall> ToolCalls,
    string Text,
    FixProposal? Proposal);
