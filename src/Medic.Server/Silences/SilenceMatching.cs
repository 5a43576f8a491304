using System.Collections.Concurrent;
using System.Data.Common;
using System.Text.RegularExpressions;
using Medic.Contracts;

namespace Medic.Server.Silences;

/// <summary>The silence a signal matched: named on the incident's timeline.</summary>
internal sealed record SilenceMatch(string Id, string CreatedBy, string Comment, DateTimeOffset EndsAt);

/// <summary>
/// Where the incident record asks whether a signal is silenced. Called inside the transaction that
/// folds the signal: a silenced signal is recorded on its incident but starts no pipeline round and
/// plans no notification. An incident opened (or reopened) under a silence is held; the first signal
/// no silence matches releases it, and it enters the pipeline and is notified then.
/// </summary>
internal interface ISilences
{
    /// <summary>The silence active at <paramref name="now"/> whose matchers all match <paramref name="labels"/>; null when none does.</summary>
    Task<SilenceMatch?> MatchAsync(DbConnection c, DbTransaction tx, string tenantId, IReadOnlyDictionary<string, string> labels, DateTimeOffset now);

    /// <summary>Remembers that the incident was <paramref name="action"/> (created or reopened) under the silence, without telling anyone.</summary>
    Task HoldAsync(DbConnection c, DbTransaction tx, string tenantId, string incidentId, string silenceId, string action);

    /// <summary>Forgets a held incident; returns what it was held at (created or reopened), or null when it was not held.</summary>
    Task<(string SilenceId, string Action)?> ReleaseAsync(DbConnection c, DbTransaction tx, string incidentId);
}

internal static class SilenceOps
{
    public const string Equal = "=";
    public const string NotEqual = "!=";
    public const string Regex = "=~";
    public const string NotRegex = "!~";

    public static readonly IReadOnlyList<string> All = [Equal, NotEqual, Regex, NotRegex];
}

/// <summary>
/// Label matching as Alertmanager does it, a pure function of the matchers and the labels: a missing
/// label has the empty value, <c>=~</c> and <c>!~</c> match the whole value (anchored), and a silence
/// matches when all its matchers do.
/// </summary>
internal static class SilenceMatcherRules
{
    private static readonly TimeSpan RegexBudget = TimeSpan.FromMilliseconds(100);
    private static readonly ConcurrentDictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    public static bool Matches(IReadOnlyList<SilenceMatcher> matchers, IReadOnlyDictionary<string, string> labels) =>
        matchers.Count > 0 && matchers.All(m => Matches(m, labels.GetValueOrDefault(m.Name) ?? ""));

    public static bool Matches(SilenceMatcher matcher, string value) => matcher.Op switch
    {
        SilenceOps.Equal => string.Equals(value, matcher.Value, StringComparison.Ordinal),
        SilenceOps.NotEqual => !string.Equals(value, matcher.Value, StringComparison.Ordinal),
        SilenceOps.Regex => FullMatch(matcher.Value, value),
        SilenceOps.NotRegex => !FullMatch(matcher.Value, value),
        _ => false,
    };

    /// <summary>Why the pattern cannot be used, or null when it compiles.</summary>
    public static string? PatternProblem(string pattern)
    {
        try
        {
            _ = Anchored(pattern);
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    private static bool FullMatch(string pattern, string value)
    {
        try
        {
            return Anchored(pattern).IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            // A pattern that takes this long on a label value matches nothing rather than stalling ingest.
            return false;
        }
    }

    private static Regex Anchored(string pattern)
    {
        if (Compiled.TryGetValue(pattern, out var regex)) return regex;
        regex = new Regex("^(?:" + pattern + ")$", RegexOptions.CultureInvariant, RegexBudget);
        if (Compiled.Count > 1000) Compiled.Clear();
        Compiled[pattern] = regex;
        return regex;
    }
}
