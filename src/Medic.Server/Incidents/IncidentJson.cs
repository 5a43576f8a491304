using System.Text.Json;

namespace Medic.Server.Incidents;

internal static class IncidentJson
{
    public static string? Write(IReadOnlyDictionary<string, string>? map) =>
        map is null ? null : JsonSerializer.Serialize(map.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), IncidentJsonContext.Default.DictionaryStringString);

    public static IReadOnlyDictionary<string, string>? Map(string? json) =>
        string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize(json, IncidentJsonContext.Default.DictionaryStringString);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class IncidentJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
