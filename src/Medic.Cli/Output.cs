using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Medic.Cli;

/// <summary>Tables for people, indented JSON for machines.</summary>
internal static class Output
{
    public static void Json<T>(T value, JsonTypeInfo<T> type) => Console.Out.WriteLine(JsonText(value, type));

    /// <summary>The indented JSON <see cref="Json{T}"/> prints, for writing to a file.</summary>
    public static string JsonText<T>(T value, JsonTypeInfo<T> type)
    {
        var options = new JsonSerializerOptions(type.Options) { WriteIndented = true };
        return JsonSerializer.Serialize(value, (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));
    }

    public static void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var all = rows.Select(r => r.Select(c => c ?? "-").ToArray()).ToList();
        if (all.Count == 0)
        {
            Console.Out.WriteLine("(none)");
            return;
        }

        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Max(r => r[i].Length))).ToArray();
        Console.Out.WriteLine(Line(headers, widths));
        foreach (var row in all)
        {
            Console.Out.WriteLine(Line(row, widths));
        }
    }

    private static string Line(IReadOnlyList<string> cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Count - 1 ? c : c.PadRight(widths[i]))).TrimEnd();

    public static string Time(DateTimeOffset? t) => t is { } v ? v.ToUniversalTime().ToString("yyyy-MM-dd HH:mm") : "-";
}
