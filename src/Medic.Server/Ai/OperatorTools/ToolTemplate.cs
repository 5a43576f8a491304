using System.Text.RegularExpressions;

namespace Medic.Server.Ai.OperatorTools;

/// <summary>
/// The <c>{{ param }}</c> references in an operator tool's args and URL. A reference is replaced by
/// a value as data (one argv element, or URL-encoded): nothing is ever parsed by a shell.
/// </summary>
internal static partial class ToolTemplate
{
    [GeneratedRegex(@"\{\{\s*([^{}\s]*)\s*\}\}")]
    private static partial Regex Reference();

    /// <summary>The parameter names <paramref name="text"/> references, or why it is not a template (a stray brace pair).</summary>
    public static (IReadOnlyList<string> Names, string? Error) References(string text)
    {
        var names = Reference().Matches(text).Select(m => m.Groups[1].Value).ToList();
        var rest = Reference().Replace(text, "");
        if (rest.Contains("{{", StringComparison.Ordinal) || rest.Contains("}}", StringComparison.Ordinal))
        {
            return (names, "has '{{' or '}}' that is not a whole reference like {{ name }}");
        }

        return (names, null);
    }

    /// <summary><paramref name="text"/> with each reference replaced by <paramref name="value"/> of its name.</summary>
    public static string Fill(string text, Func<string, string> value) => Reference().Replace(text, m => value(m.Groups[1].Value));
}
