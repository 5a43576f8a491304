using System.Text.RegularExpressions;

namespace Medic.Server.Web.Pages.Runbooks;

internal enum YamlTokenKind { Plain, Key, Punctuation, String, Comment, Reference, BlockText }

internal sealed record YamlToken(YamlTokenKind Kind, string Text);

/// <summary>
/// Splits runbook YAML into tokens for highlighting on the server (no script in the browser):
/// keys, quoted strings, comments, <c>${{ }}</c> references and the text of block scalars
/// (<c>shell: |</c>). Concatenating the tokens gives the input back unchanged; anything it does
/// not recognise stays plain, so odd YAML is shown as it is rather than refused.
/// </summary>
internal static partial class YamlHighlighter
{
    public static IReadOnlyList<YamlToken> Tokenize(string yaml)
    {
        var tokens = new List<YamlToken>();
        int? blockIndent = null; // indentation of the key that opened a block scalar; deeper lines are its text
        foreach (var line in Lines(yaml))
        {
            var body = line.TrimEnd('\r', '\n');
            var newline = line[body.Length..];
            var indent = body.Length - body.TrimStart(' ').Length;
            if (blockIndent is { } parent)
            {
                if (body.Trim().Length == 0 || indent > parent)
                {
                    AddValue(tokens, body, YamlTokenKind.BlockText);
                    Add(tokens, YamlTokenKind.Plain, newline);
                    continue;
                }

                blockIndent = null;
            }

            Add(tokens, YamlTokenKind.Plain, body[..indent]);
            var rest = body[indent..];
            var lineIndent = indent;
            while (ListItem().Match(rest) is { Success: true } item)
            {
                Add(tokens, YamlTokenKind.Punctuation, item.Groups[1].Value);
                Add(tokens, YamlTokenKind.Plain, item.Groups[2].Value);
                lineIndent += item.Length;
                rest = rest[item.Length..];
            }

            if (rest.StartsWith('#'))
            {
                Add(tokens, YamlTokenKind.Comment, rest);
            }
            else if (Key().Match(rest) is { Success: true } key)
            {
                Add(tokens, YamlTokenKind.Key, key.Groups[1].Value);
                Add(tokens, YamlTokenKind.Plain, key.Groups[2].Value);
                Add(tokens, YamlTokenKind.Punctuation, ":");
                var value = rest[key.Length..];
                if (BlockScalar().IsMatch(value))
                {
                    Add(tokens, YamlTokenKind.Punctuation, value);
                    blockIndent = lineIndent;
                }
                else
                {
                    AddValue(tokens, value, null);
                }
            }
            else
            {
                AddValue(tokens, rest, null);
            }

            Add(tokens, YamlTokenKind.Plain, newline);
        }

        return tokens;
    }

    private static IEnumerable<string> Lines(string text)
    {
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0)
            {
                yield return text[start..];
                yield break;
            }

            yield return text[start..(end + 1)];
            start = end + 1;
        }
    }

    /// <summary>A value: quoted strings, a trailing comment, references; the rest as <paramref name="plain"/> (block text) or plain.</summary>
    private static void AddValue(List<YamlToken> tokens, string value, YamlTokenKind? plain)
    {
        var other = plain ?? YamlTokenKind.Plain;
        var i = 0;
        var run = 0;
        void Flush(int upTo, YamlTokenKind kind)
        {
            if (upTo > run) AddReferences(tokens, value[run..upTo], kind);
            run = upTo;
        }

        while (i < value.Length)
        {
            var ch = value[i];
            if (plain is null && (ch == '\'' || ch == '"') && (i == 0 || " \t[{,:".Contains(value[i - 1], StringComparison.Ordinal)))
            {
                var close = ClosingQuote(value, i);
                Flush(i, other);
                Flush(close, YamlTokenKind.String);
                i = close;
                continue;
            }

            if (plain is null && ch == '#' && (i == 0 || value[i - 1] is ' ' or '\t'))
            {
                Flush(i, other);
                Add(tokens, YamlTokenKind.Comment, value[i..]);
                return;
            }

            i++;
        }

        Flush(value.Length, other);
    }

    /// <summary>The index just past the quote that closes the string opened at <paramref name="open"/> (the end of the line when unclosed).</summary>
    private static int ClosingQuote(string value, int open)
    {
        var quote = value[open];
        for (var i = open + 1; i < value.Length; i++)
        {
            if (quote == '"' && value[i] == '\\') { i++; continue; }
            if (value[i] != quote) continue;
            if (quote == '\'' && i + 1 < value.Length && value[i + 1] == '\'') { i++; continue; } // '' is an escaped quote
            return i + 1;
        }

        return value.Length;
    }

    private static void AddReferences(List<YamlToken> tokens, string text, YamlTokenKind kind)
    {
        var at = 0;
        foreach (Match m in Reference().Matches(text))
        {
            Add(tokens, kind, text[at..m.Index]);
            Add(tokens, YamlTokenKind.Reference, m.Value);
            at = m.Index + m.Length;
        }

        Add(tokens, kind, text[at..]);
    }

    private static void Add(List<YamlToken> tokens, YamlTokenKind kind, string text)
    {
        if (text.Length == 0) return;
        if (tokens.Count > 0 && tokens[^1].Kind == kind) tokens[^1] = tokens[^1] with { Text = tokens[^1].Text + text };
        else tokens.Add(new YamlToken(kind, text));
    }

    [GeneratedRegex(@"^(-)(\s+|$)")]
    private static partial Regex ListItem();

    [GeneratedRegex(@"^([A-Za-z0-9_][A-Za-z0-9_.\-]*|""[^""]*""|'[^']*')(\s*):(?=\s|$)")]
    private static partial Regex Key();

    [GeneratedRegex(@"^\s*[|>][+\-0-9]*\s*(#.*)?$")]
    private static partial Regex BlockScalar();

    [GeneratedRegex(@"\$\{\{.*?\}\}")]
    private static partial Regex Reference();
}
