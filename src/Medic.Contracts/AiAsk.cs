namespace Medic.Contracts;

/// <summary>
/// A question for <c>POST /api/v1/ai/ask</c>. Without <c>Session</c> the caller's latest session
/// goes on (<c>New</c> starts another); <c>Model</c> names a model entry (default: the tenant's default).
/// </summary>
public sealed record AskRequest(string Question, string? Session = null, bool New = false, string? Model = null);

/// <summary>
/// One line of the answer stream (<c>application/x-ndjson</c>): <c>session</c> (which session),
/// <c>text</c> (a piece of the answer), <c>tool</c> (a tool the agent called, and its error code if it
/// failed), <c>notice</c>, and last <c>done</c> (the run id, its outcome and any proposals made).
/// </summary>
public sealed record AskEvent(string Type, string? Text = null, string? Tool = null, string? Error = null, string? Session = null, string? Run = null,
    string? Outcome = null, IReadOnlyList<string>? Proposals = null);

public sealed record AskSessionSummary(string Id, string Title, string? Model, int Turns, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record AskTurn(string Role, string Text, DateTimeOffset At, string? Run = null);

public sealed record AskSessionResponse(AskSessionSummary Session, IReadOnlyList<AskTurn> Turns);
