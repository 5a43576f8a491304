namespace Medic.Server.Runbooks;

/// <summary><c>Started</c> is false when the idempotency key already had a run: <c>RunId</c> is that run, and nothing new ran.</summary>
internal sealed record RunbookRunStart(string RunId, bool Started);
