using System.Globalization;
using Medic.Contracts;

namespace Medic.Agent.Monitors;

/// <summary>
/// Reads typed values out of one <see cref="YamlMap"/>, refusing unknown keys, with errors that
/// name the file and line. <see cref="Done"/> reports keys nobody asked for.
/// </summary>
internal sealed class YamlFields
{
    private readonly YamlMap _map;
    private readonly string _source;
    private readonly string _docs;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public YamlFields(YamlNode? node, string source, string docs, string what)
    {
        _source = source;
        _docs = docs;
        _map = node switch
        {
            YamlMap map => map,
            null => new YamlMap([], 0),
            _ => throw Error(node.Line, $"{what} must be a mapping of 'key: value' lines"),
        };
    }

    public int Line => _map.Line;

    public bool Has(string key) => _map.Entries.Any(e => e.Key == key);

    public YamlNode? Node(string key)
    {
        _read.Add(key);
        return _map.Entries.FirstOrDefault(e => e.Key == key)?.Value;
    }

    public int LineOf(string key) => _map.Entries.FirstOrDefault(e => e.Key == key)?.Line ?? _map.Line;

    public string? Text(string key)
    {
        var node = Node(key);
        return node switch
        {
            null => null,
            YamlScalar s => s.Value,
            _ => throw Error(node.Line, $"'{key}' must be a single value"),
        };
    }

    public string RequiredText(string key, string remedyExample) =>
        Text(key) is { Length: > 0 } value ? value : throw Error(LineOf(key), $"'{key}' is required (for example {remedyExample})");

    public bool? Bool(string key) => Text(key) switch
    {
        null => null,
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        var other => throw Error(LineOf(key), $"'{key}: {other}' is not true or false"),
    };

    public double? Number(string key, double min, double max)
    {
        var text = Text(key);
        if (text is null) return null;
        return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw Error(LineOf(key), $"'{key}: {text}' is not a number from {min} to {max}");
    }

    public int? Integer(string key, int min, int max)
    {
        var text = Text(key);
        if (text is null) return null;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw Error(LineOf(key), $"'{key}: {text}' is not a whole number from {min} to {max}");
    }

    public long? Bytes(string key, long min, long max)
    {
        var text = Text(key);
        if (text is null) return null;
        return Units.TryParseBytes(text, out var n) && n >= min && n <= max
            ? n
            : throw Error(LineOf(key), $"'{key}: {text}' is not a size from {min} to {max} bytes (write 10MiB, 512KiB or plain bytes)");
    }

    /// <summary>A duration such as 500ms, 15s, 5m, 2h or 7d (a bare number is seconds), in seconds.</summary>
    public double? Seconds(string key, double min, double max)
    {
        var text = Text(key);
        if (text is null) return null;
        return Duration.TryParse(text, out var span) && span.TotalSeconds >= min && span.TotalSeconds <= max
            ? span.TotalSeconds
            : throw Error(LineOf(key), $"'{key}: {text}' is not a duration from {Units.Describe(min)} to {Units.Describe(max)} ({Duration.Hint})");
    }

    /// <summary>A list of strings: a block list of scalars or a flow list [a, b].</summary>
    public IReadOnlyList<string>? TextList(string key)
    {
        var node = Node(key);
        return node switch
        {
            null => null,
            YamlList list => list.Items.Select(i => i is YamlScalar s ? s.Value : throw Error(i.Line, $"each item of '{key}' must be a single value")).ToList(),
            YamlScalar s => [s.Value],
            _ => throw Error(node.Line, $"'{key}' must be a list of values"),
        };
    }

    public IReadOnlyDictionary<string, string> TextMap(string key)
    {
        var node = Node(key);
        if (node is null) return new Dictionary<string, string>();
        if (node is not YamlMap map) throw Error(node.Line, $"'{key}' must be a mapping of 'name: value' lines");
        return map.Entries.ToDictionary(
            e => e.Key,
            e => e.Value switch
            {
                YamlScalar s => s.Value,
                null => "",
                _ => throw Error(e.Line, $"'{key}.{e.Key}' must be a single value"),
            },
            StringComparer.Ordinal);
    }

    /// <summary>Refuses the keys that were not read, naming the ones that are known.</summary>
    public void Done(string what, IEnumerable<string> known)
    {
        foreach (var entry in _map.Entries)
        {
            if (!_read.Contains(entry.Key))
            {
                throw Error(entry.Line, $"unknown setting '{entry.Key}' for {what} (known: {string.Join(", ", known)})");
            }
        }
    }

    public AgentException Error(int line, string what) => Error(_source, line, what, _docs);

    public static AgentException Error(string source, int line, string what, string docs) =>
        new(line > 0 ? $"{source}, line {line}: {what}" : $"{source}: {what}", $"fix that line; the format is in {docs}");
}

/// <summary>Sizes as people write them in configuration files; durations are <see cref="Duration"/>.</summary>
internal static class Units
{
    public static bool TryParseBytes(string text, out long bytes)
    {
        bytes = 0;
        text = text.Trim();
        (string Suffix, long Factor)[] units = [("KiB", 1024), ("MiB", 1024 * 1024), ("GiB", 1024L * 1024 * 1024), ("KB", 1000), ("MB", 1000_000), ("GB", 1000_000_000)];
        foreach (var (suffix, factor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && long.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                && n <= long.MaxValue / factor)
            {
                bytes = n * factor;
                return true;
            }
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out bytes);
    }

    public static string Describe(double seconds) => Duration.Format(TimeSpan.FromSeconds(seconds));
}
