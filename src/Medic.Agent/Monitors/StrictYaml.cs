using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Medic.Agent.Monitors;

/// <summary>A node of a file <see cref="StrictYaml"/> read; <see cref="Line"/> is 1-based, for errors.</summary>
internal abstract record YamlNode(int Line);

internal sealed record YamlScalar(string Value, int Line) : YamlNode(Line);

internal sealed record YamlList(IReadOnlyList<YamlNode> Items, int Line) : YamlNode(Line);

/// <summary>A mapping; an entry written as a bare <c>key:</c> has a null value.</summary>
internal sealed record YamlMap(IReadOnlyList<YamlEntry> Entries, int Line) : YamlNode(Line);

internal sealed record YamlEntry(string Key, YamlNode? Value, int Line);

internal sealed class YamlSyntaxException(int line, string message) : Exception(message)
{
    public int Line { get; } = line;
}

/// <summary>
/// Reads the agent's YAML files (monitors, watch, policy) with YamlDotNet's parser events, never its
/// deserializer (which maps through reflection; the agent is trimmed and compiled with Native AOT),
/// into a tree that keeps each node's line. YAML that would make a value mean something the line
/// does not show is refused with the line: anchors and aliases, tags, block scalars (<c>|</c> and
/// <c>&gt;</c> add a newline a regex or a URL would silently carry), a second document, a key given
/// twice, and tabs in the indentation.
/// </summary>
internal static class StrictYaml
{
    private const int MaxDepth = 32;
    private const string NoAnchors = "anchors and aliases ('&', '*') are not supported: write the value out";

    public static YamlNode? Parse(string text)
    {
        RefuseTabIndentation(text);
        var parser = new Parser(new StringReader(text));
        try
        {
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _)) return null;
            parser.Consume<DocumentStart>();
            var root = Read(parser, 0);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                throw new YamlSyntaxException(LineOf(second.Start), "more than one document ('---') is not supported");
            }

            return root;
        }
        catch (YamlException ex)
        {
            throw new YamlSyntaxException(LineOf(ex.Start), Describe(ex.Message));
        }
    }

    /// <summary>A node, or null for an empty plain value (<c>key:</c> with nothing after it).</summary>
    private static YamlNode? Read(IParser parser, int depth)
    {
        var line = LineOfNext(parser);
        if (parser.Accept<AnchorAlias>(out _)) throw new YamlSyntaxException(line, NoAnchors);
        var node = parser.Consume<NodeEvent>();
        if (!node.Anchor.IsEmpty) throw new YamlSyntaxException(line, NoAnchors);
        if (!node.Tag.IsEmpty) throw new YamlSyntaxException(line, $"the tag '{node.Tag}' is not supported ('!' tags are not read)");
        if (depth == MaxDepth) throw new YamlSyntaxException(line, $"nesting deeper than {MaxDepth} levels");
        switch (node)
        {
            case Scalar { Style: ScalarStyle.Literal or ScalarStyle.Folded }:
                throw new YamlSyntaxException(line, "block scalars ('|', '>') are not supported: write the value on one line, quoted if needed");
            case Scalar { Style: ScalarStyle.Plain, Value.Length: 0 }:
                return null;
            case Scalar scalar:
                return new YamlScalar(scalar.Value, line);
            case SequenceStart:
                var items = new List<YamlNode>();
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    var itemLine = LineOfNext(parser);
                    items.Add(Read(parser, depth + 1) ?? new YamlScalar("", itemLine));
                }

                return new YamlList(items, line);
            default:
                var entries = new List<YamlEntry>();
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var keyLine = LineOfNext(parser);
                    var key = Read(parser, depth + 1) switch
                    {
                        YamlScalar { Value.Length: > 0 } scalar => scalar.Value,
                        null or YamlScalar => throw new YamlSyntaxException(keyLine, "an empty key"),
                        _ => throw new YamlSyntaxException(keyLine, "a key must be a single value"),
                    };
                    if (entries.Any(e => e.Key == key)) throw new YamlSyntaxException(keyLine, $"'{key}' appears twice");
                    entries.Add(new YamlEntry(key, Read(parser, depth + 1), keyLine));
                }

                return new YamlMap(entries, line);
        }
    }

    private static void RefuseTabIndentation(string text)
    {
        var number = 0;
        foreach (var line in text.Split('\n'))
        {
            number++;
            var content = line.TrimStart(' ');
            if (content.StartsWith('\t') && content.TrimStart() is { Length: > 0 } rest && rest[0] != '#')
            {
                throw new YamlSyntaxException(number, "a tab in the indentation (indent with spaces)");
            }
        }
    }

    /// <summary>YamlDotNet's message, said in terms of what to change where the usual cause is known.</summary>
    private static string Describe(string message) =>
        message.Contains("found invalid mapping", StringComparison.Ordinal) || message.StartsWith("Mapping values are not allowed", StringComparison.Ordinal)
            ? "unexpected indentation, or a ': ' inside an unquoted value (quote the value)"
            : $"not valid YAML: {(message is [var first, .. var rest] ? char.ToLowerInvariant(first) + rest : message).TrimEnd('.')}";

    private static int LineOfNext(IParser parser) => parser.Current is { } next ? LineOf(next.Start) : 0;

    private static int LineOf(Mark mark) => (int)Math.Min(mark.Line, int.MaxValue);
}
