using System.Globalization;
using System.Text;

namespace Medic.Agent.Diagnostics;

/// <summary>
/// The machine-readable tail of a diagnosis: one <c>finding KEY=VALUE</c> line per fact, which
/// triage reads back as evidence to choose a recipe and fill its parameters.
/// </summary>
internal sealed class Findings
{
    private const int MaxValueLength = 240;
    private readonly List<(string Key, string Value)> _items = [];

    public Findings Add(string key, string? value)
    {
        if (value is { Length: > 0 })
        {
            _items.RemoveAll(i => i.Key == key);
            _items.Add((key, Clean(value)));
        }
        return this;
    }

    public Findings Add(string key, long value) => Add(key, value.ToString(CultureInfo.InvariantCulture));

    public Findings Add(string key, bool value) => Add(key, value ? "true" : "false");

    public string? this[string key] => _items.FirstOrDefault(i => i.Key == key).Value;

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (key, value) in _items)
        {
            text.Append("finding ").Append(key).Append('=').Append(value).Append('\n');
        }
        return text.ToString();
    }

    public ValueTask WriteAsync(VerbRun run) => run.WriteAsync(ToString());

    /// <summary>One line, no control characters, short: a value triage can pass on as a parameter.</summary>
    private static string Clean(string value)
    {
        var text = new string(value.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
        return text.Length <= MaxValueLength ? text : text[..MaxValueLength];
    }
}
