using Medic.Contracts;

namespace Medic.Server.Incidents;

internal static class IncidentStatuses
{
    /// <summary>While a fix runs, a source's "resolved" is recorded but does not end the incident: the fix's verification does.</summary>
    public static bool RemediationRunning(IncidentStatus status) => status is IncidentStatus.Executing or IncidentStatus.Verifying;
}

internal static class Severities
{
    public const string Critical = "critical";
    public const string Warning = "warning";
    public const string Info = "info";

    public static readonly IReadOnlyList<string> All = [Critical, Warning, Info];

    /// <summary>Maps what senders call severities (P1, error, high, page, ...) onto Medic's three.</summary>
    public static string Normalize(string? value) => (value ?? "").Trim().ToLowerInvariant() switch
    {
        "critical" or "crit" or "fatal" or "emergency" or "alert" or "page" or "high" or "error" or "p1" or "p2" or "sev1" or "sev2" or "disaster" => Critical,
        "info" or "informational" or "low" or "notice" or "debug" or "ok" or "none" or "p5" => Info,
        _ => Warning,
    };

    /// <summary>
    /// The severity of an open incident after a repeat reports <paramref name="reported"/>: it may rise
    /// but does not fall until the incident resolves (a reopen starts from the reported one), so a
    /// sender whose alerts disagree, or a rule at two thresholds, does not flip it on every repeat.
    /// </summary>
    public static string WhileOpen(string current, string reported) => Rank(reported) > Rank(current) ? reported : current;

    private static int Rank(string severity) => severity switch
    {
        Critical => 3,
        Warning => 2,
        Info => 1,
        _ => 0,
    };
}
