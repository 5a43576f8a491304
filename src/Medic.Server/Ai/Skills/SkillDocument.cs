using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Medic.Server.Ai.Skills;

/// <summary>
/// A skill as written: a front-matter header between <c>---</c> lines with <c>name</c>,
/// <c>description</c> and <c>when</c> (when to use it), then Markdown.
/// </summary>
internal sealed record SkillDocument(string Name, string Description, string When, string Body, string Markdown)
{
    public const int MaxBytes = 32 * 1024;
    public const int MaxDescription = 300;
    public const int MaxWhen = 600;

    private static readonly string[] Keys = ["name", "description", "when"];

    /// <summary>The skill as a model reads it: a header line, what it is for, then its text.</summary>
    public string Section => $"## Skill: {Name}\n{Description}\nWhen to use: {When}\n\n{Body.Trim()}\n";

    /// <summary>Tokens estimated as characters / 4, the estimate every budget here uses.</summary>
    public static int Tokens(string text) => (text.Length + 3) / 4;

    /// <summary>The document, or what is wrong with it (each error says how to fix it).</summary>
    public static SkillDocument? Parse(string? markdown, out List<string> errors)
    {
        errors = [];
        if (string.IsNullOrWhiteSpace(markdown))
        {
            errors.Add("is empty: a skill starts with a '---' header holding name, description and when, then Markdown");
            return null;
        }

        if (Encoding.UTF8.GetByteCount(markdown) > MaxBytes) errors.Add($"is larger than {MaxBytes / 1024} KiB: split it into several skills");
        if (markdown.Contains('\0', StringComparison.Ordinal)) errors.Add("contains a NUL character (\\u0000)");
        if (errors.Count > 0) return null;

        var text = markdown.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (!text.StartsWith("---\n", StringComparison.Ordinal))
        {
            errors.Add("has no header: start with a line '---', then name:, description: and when:, then a line '---'");
            return null;
        }

        var end = text.IndexOf("\n---\n", 3, StringComparison.Ordinal);
        if (end < 0 && text.EndsWith("\n---", StringComparison.Ordinal)) end = text.Length - 4;
        if (end < 0)
        {
            errors.Add("has no end to its header: close it with a line '---'");
            return null;
        }

        var header = text[4..(end + 1)];
        var body = end + 5 <= text.Length ? text[(end + 5)..] : "";
        var fields = ReadHeader(header, errors);
        if (fields is null) return null;

        foreach (var key in fields.Keys.Where(k => !Keys.Contains(k, StringComparer.Ordinal))) errors.Add($"header field '{key}' is unknown: a skill's header has name, description and when");
        var name = Field(fields, "name", 63, errors);
        var description = Field(fields, "description", MaxDescription, errors);
        var when = Field(fields, "when", MaxWhen, errors);
        if (name is not null && !Common.ResourceNames.IsValid(name)) errors.Add($"name '{name}' is not a skill name: 1 to 63 lowercase letters, digits, '.', '_' or '-'");
        if (string.IsNullOrWhiteSpace(body)) errors.Add("has no text after its header: write what to check, what causes it and what fixes it");
        return errors.Count == 0 ? new SkillDocument(name!, description!, when!, body, markdown) : null;
    }

    private static Dictionary<string, string>? ReadHeader(string header, List<string> errors)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(header));
        }
        catch (YamlException ex)
        {
            errors.Add($"header line {ex.Start.Line}: not valid YAML: {ex.Message} (quote a value that holds ': ' or starts with '[')");
            return null;
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet's scanner throws this, not a YamlException, for some malformed scalars.
            errors.Add($"header is not valid YAML: {ex.Message} (quote a value that holds ': ' or starts with '[')");
            return null;
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            errors.Add("header is not a list of 'key: value' lines (name, description, when)");
            return null;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in root.Children)
        {
            if (key is not YamlScalarNode { Value: { } k } || value is not YamlScalarNode { Value: { } v })
            {
                errors.Add($"header field '{key}' must be a plain 'key: text' line");
                continue;
            }

            fields[k] = v.Trim();
        }

        return fields;
    }

    private static string? Field(Dictionary<string, string> fields, string key, int max, List<string> errors)
    {
        if (!fields.TryGetValue(key, out var value) || value.Length == 0)
        {
            errors.Add($"header has no '{key}:'" + key switch
            {
                "name" => " (the skill's name, as in the URL)",
                "description" => " (one line: what the skill knows)",
                _ => " (when to use it: the incident types, symptoms or software it applies to)",
            });
            return null;
        }

        if (value.Length > max) errors.Add($"header field '{key}' is {value.Length} characters long; the limit is {max}");
        return value;
    }
}
