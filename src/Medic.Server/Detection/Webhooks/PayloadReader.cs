using System.Globalization;
using System.Text.Json;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Typed reads of a JSON payload that fail with a <see cref="PayloadException"/> naming the field
/// (<c>alerts[2].labels.instance must be a string, not a number</c>). A JSON null counts as absent.
/// </summary>
internal static class PayloadReader
{
    public static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => "value",
    };

    public static string Path(string parent, string name) => parent.Length == 0 ? name : parent + "." + name;

    public static JsonElement? Member(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static string? OptionalString(JsonElement obj, string name, string parent)
    {
        if (Member(obj, name) is not { } value) return null;
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new PayloadException($"{Path(parent, name)} must be a string, not a {Kind(value)}");
    }

    public static string RequiredString(JsonElement obj, string name, string parent)
    {
        var value = OptionalString(obj, name, parent) ?? throw new PayloadException($"{Path(parent, name)} is missing");
        return string.IsNullOrWhiteSpace(value) ? throw new PayloadException($"{Path(parent, name)} is empty") : value;
    }

    /// <summary>A string, or a number written without quotes (templated senders produce both); as text.</summary>
    public static string? OptionalScalar(JsonElement obj, string name, string parent)
    {
        if (Member(obj, name) is not { } value) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => throw new PayloadException($"{Path(parent, name)} must be a string or a number, not a {Kind(value)}"),
        };
    }

    public static JsonElement? OptionalObject(JsonElement obj, string name, string parent)
    {
        if (Member(obj, name) is not { } value) return null;
        return value.ValueKind == JsonValueKind.Object ? value : throw new PayloadException($"{Path(parent, name)} must be an object, not a {Kind(value)}");
    }

    public static JsonElement RequiredObject(JsonElement obj, string name, string parent) =>
        OptionalObject(obj, name, parent) ?? throw new PayloadException($"{Path(parent, name)} is missing");

    public static JsonElement RequiredArray(JsonElement obj, string name, string parent)
    {
        if (Member(obj, name) is not { } value) throw new PayloadException($"{Path(parent, name)} is missing");
        if (value.ValueKind != JsonValueKind.Array) throw new PayloadException($"{Path(parent, name)} must be an array, not a {Kind(value)}");
        var count = value.GetArrayLength();
        return count <= WebhookAdapter.MaxAlerts
            ? value
            : throw new PayloadException($"{Path(parent, name)} holds {count} entries; the limit is {WebhookAdapter.MaxAlerts} per delivery");
    }

    /// <summary>A whole number that fits in a long, or null when absent.</summary>
    public static long? OptionalInteger(JsonElement obj, string name, string parent)
    {
        if (Member(obj, name) is not { } value) return null;
        if (value.ValueKind != JsonValueKind.Number) throw new PayloadException($"{Path(parent, name)} must be a number, not a {Kind(value)}");
        return value.TryGetInt64(out var n) ? n : throw new PayloadException($"{Path(parent, name)} is not a whole number within range");
    }

    /// <summary>An object of string values (labels, annotations); an absent one is empty.</summary>
    public static Dictionary<string, string> StringMap(JsonElement obj, string name, string parent)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (OptionalObject(obj, name, parent) is not { } value) return map;
        var path = Path(parent, name);
        foreach (var property in value.EnumerateObject())
        {
            if (map.Count >= WebhookText.MaxLabels)
            {
                throw new PayloadException($"{path} has more than {WebhookText.MaxLabels} entries");
            }

            if (property.Value.ValueKind == JsonValueKind.Null) continue;
            if (property.Value.ValueKind != JsonValueKind.String)
            {
                throw new PayloadException($"{path}.{WebhookText.Clean(property.Name, 100)} must be a string, not a {Kind(property.Value)}");
            }

            if (property.Name.Length == 0 || property.Name.Length > WebhookText.MaxLabelKey)
            {
                throw new PayloadException($"{path} has a key of {property.Name.Length} characters; keys are 1 to {WebhookText.MaxLabelKey}");
            }

            map[property.Name] = property.Value.GetString()!;
        }

        return map;
    }

    /// <summary>An RFC 3339 time, or null when absent.</summary>
    public static DateTimeOffset? OptionalTime(JsonElement obj, string name, string parent)
    {
        if (OptionalString(obj, name, parent) is not { } text) return null;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new PayloadException($"{Path(parent, name)} '{WebhookText.Clean(text, 40)}' is not an RFC 3339 time");
    }
}
