namespace Medic.Contracts;

/// <summary>One label matcher, as Alertmanager's: <c>Op</c> is <c>=</c>, <c>!=</c>, <c>=~</c> or <c>!~</c> (regular expressions match the whole value).</summary>
public sealed record SilenceMatcher(string Name, string Op, string Value);

/// <summary>
/// A new silence: every matcher must match a signal's labels. It starts at <c>StartsAt</c> (default now)
/// and ends at <c>EndsAt</c>, or <c>Duration</c> after its start (e.g. <c>2h</c>); one of the two is required.
/// </summary>
public sealed record CreateSilenceRequest(
    IReadOnlyList<SilenceMatcher> Matchers,
    string Comment,
    DateTimeOffset? StartsAt = null,
    DateTimeOffset? EndsAt = null,
    string? Duration = null);

/// <summary>A silence and its state now: <c>pending</c> (starts later), <c>active</c> or <c>expired</c>.</summary>
public sealed record SilenceResponse(
    string Id,
    IReadOnlyList<SilenceMatcher> Matchers,
    DateTimeOffset StartsAt,
    DateTimeOffset EndsAt,
    SilenceState State,
    string CreatedBy,
    string Comment,
    DateTimeOffset CreatedAt,
    string? ExpiredBy);
