using Medic.Contracts;
using Medic.Server.Fleet;

namespace Medic.Server.Web.Shared;

/// <summary>
/// The servers a console form targets, as typed: names, <c>key=value</c> tags, an environment,
/// groups, or every server. Turned into the API's <see cref="ExecSelector"/> (every criterion must
/// hold, as with <c>medic exec</c>), or into one line saying what is wrong with it.
/// </summary>
public sealed class TargetSelection
{
    private static readonly char[] Separators = [',', ' ', '\t', '\n', '\r'];

    public string Names { get; set; } = "";
    public string Tags { get; set; } = "";
    public string Environment { get; set; } = "";
    public string Groups { get; set; } = "";
    public bool All { get; set; }

    public bool IsEmpty => !All && Names.Trim().Length == 0 && Tags.Trim().Length == 0 && Environment.Trim().Length == 0 && Groups.Trim().Length == 0;

    /// <summary>The selector, null when nothing is selected; or the problem with what was typed.</summary>
    public (ExecSelector? Selector, string? Problem) ToSelector()
    {
        if (IsEmpty) return (null, null);
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in Split(Tags))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) return (null, $"Tag '{pair}' is not key=value: write tags like env=prod, role=web.");
            var key = pair[..eq];
            if (tags.ContainsKey(key)) return (null, $"Tag '{key}' is given twice: a server has one value per tag.");
            tags[key] = pair[(eq + 1)..];
        }

        var names = Split(Names);
        var groups = Split(Groups);
        var environment = Environment.Trim();
        return (new ExecSelector(
            names.Count > 0 ? names : null,
            tags.Count > 0 ? tags : null,
            environment.Length > 0 ? environment : null,
            groups.Count > 0 ? groups : null,
            All), null);
    }

    /// <summary>
    /// The servers list query that matches what <paramref name="selector"/> matches (as
    /// <see cref="Executions.Select"/> does), reading the first <paramref name="take"/> by name; or
    /// why the selector cannot match anything as typed (a tag key that no server can have).
    /// </summary>
    internal static (ServerListQuery? Query, string? Problem) Query(ExecSelector selector, int take)
    {
        var tags = (selector.Tags ?? new Dictionary<string, string>()).ToDictionary(t => t.Key, t => (string?)t.Value, StringComparer.Ordinal);
        if (selector.Environment is { } environment) tags[Medic.Server.Fleet.Tags.EnvironmentKey] = environment;
        if (Medic.Server.Fleet.Tags.Problem(tags) is { } problem) return (null, $"Tags: {problem}.");
        return (new ServerListQuery(Tags: selector.Tags, Environment: selector.Environment, Take: take, Names: selector.Names, Groups: selector.Groups), null);
    }

    private static List<string> Split(string text) => text.Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
}
