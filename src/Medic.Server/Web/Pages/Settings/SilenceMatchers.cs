using Medic.Contracts;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>
/// Label matchers typed one per line, as Alertmanager (and <c>medic silences add</c>) writes them:
/// <c>alertname=DiskFull</c>, <c>instance=~"web-.*"</c>, <c>env!=staging</c>, <c>job!~"test.*"</c>.
/// </summary>
internal static class SilenceMatchers
{
    private static readonly string[] Ops = ["=~", "!~", "!=", "="];

    /// <summary>The matchers, or the first line that is not one and how to write it.</summary>
    public static (IReadOnlyList<SilenceMatcher>? Matchers, string? Problem) Parse(string? text)
    {
        var matchers = new List<SilenceMatcher>();
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (ParseOne(line) is not { } m) return (null, $"'{line}' is not a label matcher. Write NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX, one per line.");
            matchers.Add(m);
        }

        return matchers.Count == 0 ? (null, "Give at least one label matcher, such as alertname=DiskFull.") : (matchers, null);
    }

    private static SilenceMatcher? ParseOne(string text)
    {
        // The operator that starts first wins, so "a!=b" is not read as "a!" = "b" and "a=b!=c" is a = "b!=c".
        var (op, at) = Ops.Select(o => (Op: o, At: text.IndexOf(o, StringComparison.Ordinal)))
            .Where(x => x.At > 0)
            .OrderBy(x => x.At).ThenByDescending(x => x.Op.Length)
            .FirstOrDefault();
        if (op is null) return null;
        var name = text[..at].Trim();
        var value = text[(at + op.Length)..].Trim();
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = value[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal);
        return name.Length == 0 ? null : new SilenceMatcher(name, op, value);
    }
}
