using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary>
/// The text of a state: each member's <see cref="JsonStringEnumMemberNameAttribute"/>, the same on the
/// wire and in the database, so renaming a member cannot change what is stored or sent.
/// </summary>
public static class StateText
{
    public static string ToText<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] T>(this T value) where T : struct, Enum =>
        Texts<T>.ByValue.TryGetValue(value, out var text) ? text : throw new ArgumentOutOfRangeException(nameof(value), value, $"not a {typeof(T).Name}");

    public static bool TryParse<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] T>(string? text, out T value) where T : struct, Enum =>
        Texts<T>.ByText.TryGetValue(text ?? "", out value);

    /// <summary>Reads stored text; text no member names is a broken row, not a default.</summary>
    public static T Parse<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] T>(string? text) where T : struct, Enum =>
        TryParse<T>(text, out var value)
            ? value
            : throw new InvalidOperationException($"'{text}' is not a known {typeof(T).Name} (known: {string.Join(", ", Texts<T>.ByText.Keys)}).");

    /// <summary>Every state's text, in declaration order.</summary>
    public static IReadOnlyList<string> All<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] T>() where T : struct, Enum => Texts<T>.All;

    private static class Texts<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] T> where T : struct, Enum
    {
        public static readonly IReadOnlyList<string> All;
        public static readonly Dictionary<T, string> ByValue = [];
        public static readonly Dictionary<string, T> ByText = new(StringComparer.Ordinal);

        static Texts()
        {
            foreach (var field in typeof(T).GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                var text = field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name
                    ?? throw new InvalidOperationException($"{typeof(T).Name}.{field.Name} has no [JsonStringEnumMemberName]: a state's text is written out, not derived.");
                var value = (T)field.GetValue(null)!;
                ByValue.Add(value, text);
                ByText.Add(text, value);
            }
            All = [.. ByText.Keys];
        }
    }
}

/// <summary>States travel by name only: a number would be read as whatever state has that index.</summary>
public sealed class StateJsonConverter<T>() : JsonStringEnumConverter<T>(namingPolicy: null, allowIntegerValues: false) where T : struct, Enum;
