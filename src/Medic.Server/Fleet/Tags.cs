using System.Text.Json;
using System.Text.Json.Serialization;

namespace Medic.Server.Fleet;

/// <summary>Server tags: <c>key=value</c> labels used to select servers. <c>env</c> and <c>groups</c> have meaning.</summary>
internal static class Tags
{
    public const string EnvironmentKey = "env";
    public const string GroupsKey = "groups";

    public static string? Problem(IReadOnlyDictionary<string, string?> tags)
    {
        if (tags.Count > 50) return "at most 50 tags";
        foreach (var (key, value) in tags)
        {
            if (key.Length is 0 or > 63 || !key.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-' or '.'))
            {
                return $"tag key '{key}' must be 1-63 characters of a-z, 0-9, '_', '-', '.'";
            }

            if (value is not null && (value.Length > 128 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':' or '/' or ',')))
            {
                return $"tag value '{value}' must be at most 128 characters of letters, digits and _ - . : / ,";
            }
        }

        return null;
    }

    public static string Serialize(IReadOnlyDictionary<string, string> tags) =>
        JsonSerializer.Serialize(new SortedDictionary<string, string>(tags.ToDictionary(), StringComparer.Ordinal), FleetJson.Default.SortedDictionaryStringString);

    public static IReadOnlyDictionary<string, string> Deserialize(string? json) =>
        string.IsNullOrEmpty(json) ? new SortedDictionary<string, string>() : JsonSerializer.Deserialize(json, FleetJson.Default.SortedDictionaryStringString) ?? [];

    public static IReadOnlyList<string> Groups(IReadOnlyDictionary<string, string> tags) =>
        tags.TryGetValue(GroupsKey, out var g) ? g.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
}

[JsonSerializable(typeof(SortedDictionary<string, string>))]
internal sealed partial class FleetJson : JsonSerializerContext;
