using System.Text;

namespace Medic.Agent.Monitors;

/// <summary>A node of the YAML subset <see cref="MiniYaml"/> reads; <see cref="Line"/> is 1-based, for errors.</summary>
internal abstract record YamlNode(int Line);

internal sealed record YamlScalar(string Value, int Line) : YamlNode(Line);

internal sealed record YamlList(IReadOnlyList<YamlNode> Items, int Line) : YamlNode(Line);

internal sealed record YamlMap(IReadOnlyList<YamlEntry> Entries, int Line) : YamlNode(Line);

internal sealed record YamlEntry(string Key, YamlNode? Value, int Line);

internal sealed class YamlSyntaxException(int line, string message) : Exception(message)
{
    public int Line { get; } = line;
}

/// <summary>
/// The YAML subset monitor and watch files need, read the way the agent policy is read (by hand,
/// no reflection, no package): block mappings and sequences by indentation (spaces only), a
/// sequence item that starts a mapping (<c>- name: web</c>), flow sequences (<c>[a, "b c"]</c>)
/// and flow mappings (<c>{ url: x }</c>) of scalars, plain, <c>"…"</c> (with \" \\ \n \t escapes)
/// and <c>'…'</c> scalars, and <c>#</c> comments. Anchors, tags, block scalars and multiple
/// documents are refused with the line, never guessed at.
/// </summary>
internal static class MiniYaml
{
    private sealed record Line(int Number, int Indent, string Text);

    public static YamlNode? Parse(string text)
    {
        var lines = new List<Line>();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = StripComment(raw.TrimEnd('\r')).TrimEnd();
            if (line.Trim().Length == 0) continue;
            var indent = 0;
            while (indent < line.Length && line[indent] == ' ') indent++;
            if (line[indent] == '\t') throw new YamlSyntaxException(number, "a tab in the indentation (indent with spaces)");
            var content = line[indent..];
            if (content is "---" or "...") throw new YamlSyntaxException(number, "more than one document ('---') is not supported");
            if (content[0] is '&' or '*' or '!' or '|' or '>' or '%' or '@' or '`')
            {
                throw new YamlSyntaxException(number, $"'{content[0]}' (anchors, tags, block scalars) is not supported");
            }

            lines.Add(new Line(number, indent, content));
        }

        if (lines.Count == 0) return null;
        var index = 0;
        var root = ParseBlock(lines, ref index, lines[0].Indent);
        if (index < lines.Count) throw new YamlSyntaxException(lines[index].Number, "unexpected indentation");
        return root;
    }

    private static YamlNode ParseBlock(List<Line> lines, ref int index, int indent) =>
        IsSequenceItem(lines[index].Text) ? ParseSequence(lines, ref index, indent) : ParseMapping(lines, ref index, indent);

    private static bool IsSequenceItem(string text) => text == "-" || text.StartsWith("- ", StringComparison.Ordinal);

    private static YamlList ParseSequence(List<Line> lines, ref int index, int indent)
    {
        var items = new List<YamlNode>();
        var first = lines[index].Number;
        while (index < lines.Count && lines[index].Indent == indent && IsSequenceItem(lines[index].Text))
        {
            var line = lines[index];
            var rest = line.Text.Length == 1 ? "" : line.Text[2..];
            var offset = 2 + (rest.Length - rest.TrimStart().Length);
            rest = rest.TrimStart();
            if (rest.Length == 0)
            {
                index++;
                if (index < lines.Count && lines[index].Indent > indent)
                {
                    items.Add(ParseBlock(lines, ref index, lines[index].Indent));
                }
                else
                {
                    items.Add(new YamlScalar("", line.Number));
                }
            }
            else if (SplitKey(rest, line.Number) is not null || IsSequenceItem(rest))
            {
                // "- key: value" opens a mapping whose other keys line up with "key".
                lines[index] = line with { Indent = indent + offset, Text = rest };
                items.Add(ParseBlock(lines, ref index, indent + offset));
            }
            else
            {
                items.Add(Scalar(rest, line.Number));
                index++;
            }
        }

        return new YamlList(items, first);
    }

    private static YamlMap ParseMapping(List<Line> lines, ref int index, int indent)
    {
        var entries = new List<YamlEntry>();
        var first = lines[index].Number;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (index < lines.Count && lines[index].Indent == indent)
        {
            var line = lines[index];
            if (IsSequenceItem(line.Text)) throw new YamlSyntaxException(line.Number, "a list item where a 'key: value' was expected");
            var (key, rest) = SplitKey(line.Text, line.Number) ?? throw new YamlSyntaxException(line.Number, "expected 'key: value'");
            if (!seen.Add(key)) throw new YamlSyntaxException(line.Number, $"'{key}' appears twice");
            index++;
            YamlNode? value;
            if (rest.Length > 0)
            {
                value = Scalar(rest, line.Number);
            }
            else if (index < lines.Count && lines[index].Indent > indent)
            {
                value = ParseBlock(lines, ref index, lines[index].Indent);
            }
            else if (index < lines.Count && lines[index].Indent == indent && IsSequenceItem(lines[index].Text))
            {
                value = ParseSequence(lines, ref index, indent);
            }
            else
            {
                value = null;
            }

            entries.Add(new YamlEntry(key, value, line.Number));
        }

        if (index < lines.Count && lines[index].Indent > indent)
        {
            throw new YamlSyntaxException(lines[index].Number, "unexpected indentation");
        }

        return new YamlMap(entries, first);
    }

    /// <summary>"key: rest" or "key:" outside quotes; null when the text is not a mapping entry.</summary>
    private static (string Key, string Value)? SplitKey(string text, int line)
    {
        if (text.Length == 0 || text[0] is '"' or '\'' or '[' or '{') return null;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == ':' && (i + 1 == text.Length || text[i + 1] == ' '))
            {
                var key = text[..i].Trim();
                if (key.Length == 0) throw new YamlSyntaxException(line, "an empty key");
                return (key, text[(i + 1)..].Trim());
            }
        }

        return null;
    }

    private static YamlNode Scalar(string text, int line)
    {
        if (text.StartsWith('[')) return FlowList(text, line);
        if (text.StartsWith('{')) return FlowMap(text, line);
        return new YamlScalar(Unquote(text, line), line);
    }

    private static YamlList FlowList(string text, int line)
    {
        if (!text.EndsWith(']')) throw new YamlSyntaxException(line, "a '[' list must end with ']' on the same line");
        var items = SplitFlow(text[1..^1], line).Select(item => (YamlNode)new YamlScalar(Unquote(item, line), line)).ToList();
        return new YamlList(items, line);
    }

    private static YamlMap FlowMap(string text, int line)
    {
        if (!text.EndsWith('}')) throw new YamlSyntaxException(line, "a '{' mapping must end with '}' on the same line");
        var entries = new List<YamlEntry>();
        foreach (var item in SplitFlow(text[1..^1], line))
        {
            var (key, rest) = SplitKey(item, line) ?? throw new YamlSyntaxException(line, $"'{item}' is not 'key: value'");
            if (entries.Any(e => e.Key == key)) throw new YamlSyntaxException(line, $"'{key}' appears twice");
            entries.Add(new YamlEntry(key, new YamlScalar(Unquote(rest, line), line), line));
        }

        return new YamlMap(entries, line);
    }

    /// <summary>Splits "a, 'b, c', d" at commas outside quotes; nesting is not supported.</summary>
    private static List<string> SplitFlow(string inner, int line)
    {
        var items = new List<string>();
        if (inner.Trim().Length == 0) return items;
        var current = new StringBuilder();
        char quote = '\0';
        for (var i = 0; i < inner.Length; i++)
        {
            var c = inner[i];
            if (quote != '\0')
            {
                if (c == '\\' && quote == '"' && i + 1 < inner.Length)
                {
                    current.Append(c).Append(inner[++i]);
                    continue;
                }

                if (c == quote) quote = '\0';
                current.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                current.Append(c);
            }
            else if (c is '[' or '{')
            {
                throw new YamlSyntaxException(line, "nested '[' or '{' inside a flow collection is not supported");
            }
            else if (c == ',')
            {
                items.Add(current.ToString().Trim());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        if (quote != '\0') throw new YamlSyntaxException(line, "an unterminated quote");
        items.Add(current.ToString().Trim());
        if (items.Any(i => i.Length == 0)) throw new YamlSyntaxException(line, "an empty item in a flow collection");
        return items;
    }

    private static string Unquote(string s, int line)
    {
        if (s.Length == 0) return s;
        if (s[0] == '\'')
        {
            if (s.Length < 2 || s[^1] != '\'') throw new YamlSyntaxException(line, "an unterminated ' quote");
            return s[1..^1].Replace("''", "'", StringComparison.Ordinal);
        }

        if (s[0] != '"') return s;
        if (s.Length < 2 || s[^1] != '"') throw new YamlSyntaxException(line, "an unterminated \" quote");
        var text = new StringBuilder();
        for (var i = 1; i < s.Length - 1; i++)
        {
            if (s[i] != '\\')
            {
                text.Append(s[i]);
                continue;
            }

            if (++i >= s.Length - 1) throw new YamlSyntaxException(line, "a '\\' at the end of a quoted string");
            text.Append(s[i] switch
            {
                'n' => '\n',
                't' => '\t',
                '"' => '"',
                '\\' => '\\',
                '/' => '/',
                _ => throw new YamlSyntaxException(line, $"the escape '\\{s[i]}' is not supported (use \\\\, \\\", \\n or \\t)"),
            });
        }

        return text.ToString();
    }

    private static string StripComment(string line)
    {
        char quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                if (c == '\\' && quote == '"') i++;
                else if (c == quote) quote = '\0';
            }
            else if (c is '"' or '\'' && (i == 0 || line[i - 1] is ' ' or '[' or '{' or ',' or ':' or '-'))
            {
                quote = c;
            }
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1])))
            {
                return line[..i];
            }
        }

        return line;
    }
}
