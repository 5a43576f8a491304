using System.Text.Json;

namespace Medic.Server.Ai.Tools;

/// <summary>A tool call's arguments, checked against the tool's parameters: the tool reads only what fits.</summary>
internal sealed class ToolArguments
{
    private readonly Dictionary<string, JsonElement> _values;

    private ToolArguments(Dictionary<string, JsonElement> values) => _values = values;

    public static ToolArguments Empty { get; } = new(new Dictionary<string, JsonElement>(StringComparer.Ordinal));

    /// <summary>The arguments, or the reason they do not fit (unknown, missing, wrong type, not an allowed value).</summary>
    public static (ToolArguments? Arguments, string? Error) Bind(IReadOnlyList<ToolParameter> parameters, IDictionary<string, object?>? raw)
    {
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (key, value) in raw ?? new Dictionary<string, object?>())
        {
            var parameter = parameters.FirstOrDefault(p => p.Name == key);
            if (parameter is null)
            {
                return (null, $"unknown argument '{key}'; this tool takes: {(parameters.Count == 0 ? "no arguments" : string.Join(", ", parameters.Select(p => p.Name)))}");
            }

            var element = value switch
            {
                null => default,
                JsonElement e => e,
                _ => JsonSerializer.SerializeToElement(value, ToolJson.Options),
            };
            if (element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) continue;
            if (Check(parameter, element) is { } problem) return (null, $"argument '{key}': {problem}");
            values[key] = element;
        }

        if (parameters.FirstOrDefault(p => p.Required && !values.ContainsKey(p.Name)) is { } missing)
        {
            return (null, $"the argument '{missing.Name}' is required: {missing.Description}");
        }

        return (new ToolArguments(values), null);
    }

    private static string? Check(ToolParameter p, JsonElement e)
    {
        switch (p.Type)
        {
            case ToolParameterType.String:
                if (e.ValueKind != JsonValueKind.String) return "must be a string";
                var text = e.GetString()!;
                if (text.Length > p.MaxLength) return $"longer than {p.MaxLength} characters";
                if (p.Values is { } allowed && !allowed.Contains(text, StringComparer.Ordinal)) return $"'{Shorten(text)}' is not one of: {string.Join(", ", allowed)}";
                return p.Pattern is { } pattern && !Matches(pattern, text) ? $"'{Shorten(text)}' does not match the pattern {p.PatternText ?? pattern.ToString()}" : null;
            case ToolParameterType.Integer:
                if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out var number)) return "must be a whole number";
                return number < p.Min || number > p.Max ? $"must be from {p.Min} to {p.Max}" : null;
            case ToolParameterType.Boolean:
                return e.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "must be true or false";
            case ToolParameterType.Object:
                if (e.ValueKind != JsonValueKind.Object) return "must be an object of string values";
                var count = 0;
                foreach (var property in e.EnumerateObject())
                {
                    if (++count > p.MaxLength) return $"has more than {p.MaxLength} entries";
                    if (property.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
                    {
                        return $"'{Shorten(property.Name)}' must be a string";
                    }

                    if (Scalar(property.Value).Length > 4096) return $"'{Shorten(property.Name)}' is longer than 4096 characters";
                }

                return null;
            default:
                return "has an unknown type";
        }
    }

    /// <summary>A value that takes the regex too long to judge does not match.</summary>
    private static bool Matches(System.Text.RegularExpressions.Regex pattern, string text)
    {
        try
        {
            return pattern.IsMatch(text);
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            return false;
        }
    }

    public string? Text(string name) => _values.TryGetValue(name, out var e) ? e.GetString() : null;

    public int? Integer(string name) => _values.TryGetValue(name, out var e) ? e.GetInt32() : null;

    public bool? Flag(string name) => _values.TryGetValue(name, out var e) ? e.GetBoolean() : null;

    /// <summary>An object argument as string pairs (numbers and booleans as their JSON text).</summary>
    public IReadOnlyDictionary<string, string> Map(string name)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!_values.TryGetValue(name, out var e)) return map;
        foreach (var property in e.EnumerateObject()) map[property.Name] = Scalar(property.Value);
        return map;
    }

    /// <summary>The arguments in a canonical form: two calls with the same arguments have the same key.</summary>
    public string Canonical() => string.Join("&", _values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => v.Key + "=" + Canon(v.Value)));

    private static string Canon(JsonElement e) => e.ValueKind == JsonValueKind.Object
        ? "{" + string.Join(",", e.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => p.Name + ":" + Scalar(p.Value))) + "}"
        : Scalar(e);

    private static string Scalar(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => e.GetRawText(),
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>The JSON schema the model sees for these parameters.</summary>
    public static JsonElement Schema(IReadOnlyList<ToolParameter> parameters)
    {
        var properties = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            var property = new Dictionary<string, object> { ["description"] = p.Description };
            switch (p.Type)
            {
                case ToolParameterType.String:
                    property["type"] = "string";
                    if (p.Values is { } values) property["enum"] = values;
                    if (p.PatternText is { } pattern)
                    {
                        property["pattern"] = pattern;
                        property["maxLength"] = p.MaxLength;
                    }

                    break;
                case ToolParameterType.Integer:
                    property["type"] = "integer";
                    if (p.Min != int.MinValue) property["minimum"] = p.Min;
                    if (p.Max != int.MaxValue) property["maximum"] = p.Max;
                    break;
                case ToolParameterType.Boolean:
                    property["type"] = "boolean";
                    break;
                case ToolParameterType.Object:
                    property["type"] = "object";
                    property["additionalProperties"] = new Dictionary<string, object> { ["type"] = "string" };
                    break;
            }

            properties[p.Name] = property;
        }

        var schema = new Dictionary<string, object>
        {
            ["type"] = "object",
            ["properties"] = properties,
            ["required"] = parameters.Where(p => p.Required).Select(p => p.Name).ToArray(),
            ["additionalProperties"] = false,
        };
        return JsonSerializer.SerializeToElement(schema, ToolJson.Options);
    }

    public override string ToString() => Canonical();
}
