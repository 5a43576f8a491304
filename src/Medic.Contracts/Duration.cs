using System.Globalization;

namespace Medic.Contracts;

/// <summary>
/// The one duration grammar of Medic, shared by the server configuration, the API, the CLI, monitor
/// files and the agent: one or more parts, each a number (fractions allowed) and a unit
/// (<c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>, <c>d</c>, <c>w</c>), largest unit first without spaces
/// (<c>500ms</c>, <c>10s</c>, <c>5m</c>, <c>1h30m</c>, <c>1.5h</c>, <c>2w</c>); a bare number is seconds.
/// docs/configuration.md#durations describes it for users.
/// </summary>
public static class Duration
{
    /// <summary>What every "is not a duration" message tells the user to write.</summary>
    public const string Hint = "write a number with a unit: 500ms, 10s, 5m, 1h, 1d or 2w (combined as 1h30m; a bare number is seconds)";

    private const double MaxPart = 100_000;

    private static readonly (string Unit, double Seconds)[] Units =
        [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 7 * 86400)];

    /// <summary>Reads <paramref name="text"/>; zero is a duration, and callers check their own range.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (text is null) return false;
        var span = text.AsSpan().Trim();
        if (span.IsEmpty) return false;

        if (TryNumber(span, out var bare))
        {
            value = TimeSpan.FromSeconds(bare);
            return true;
        }

        double seconds = 0;
        var previousRank = int.MaxValue;
        while (!span.IsEmpty)
        {
            var digits = 0;
            while (digits < span.Length && (char.IsAsciiDigit(span[digits]) || span[digits] == '.')) digits++;
            if (digits == 0 || !TryNumber(span[..digits], out var n)) return false;
            span = span[digits..];

            var letters = 0;
            while (letters < span.Length && char.IsAsciiLetter(span[letters])) letters++;
            var rank = RankOf(span[..letters]);
            if (rank < 0 || rank >= previousRank) return false;
            previousRank = rank;
            span = span[letters..];
            seconds += n * Units[rank].Seconds;
        }

        value = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>The exact way to write <paramref name="span"/> in this grammar with the largest whole unit up to days: 500ms, 90s, 2h, 14d, 1d2h3m.</summary>
    public static string Format(TimeSpan span)
    {
        if (span <= TimeSpan.Zero) return "0s";
        if (span < TimeSpan.FromSeconds(1)) return $"{span.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)}ms";

        foreach (var (unit, seconds) in new[] { ("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0) })
        {
            var n = span.TotalSeconds / seconds;
            if (n >= 1 && Math.Abs(n - Math.Round(n)) < 1e-9) return $"{Math.Round(n).ToString(CultureInfo.InvariantCulture)}{unit}";
        }

        var parts = new List<string>();
        var rest = span;
        foreach (var (unit, seconds) in new[] { ("d", 86400.0), ("h", 3600.0), ("m", 60.0) })
        {
            var whole = Math.Floor(rest.TotalSeconds / seconds);
            if (whole < 1) continue;
            parts.Add($"{whole.ToString(CultureInfo.InvariantCulture)}{unit}");
            rest -= TimeSpan.FromSeconds(whole * seconds);
        }

        if (rest > TimeSpan.Zero) parts.Add($"{rest.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s");
        return string.Concat(parts);
    }

    /// <summary>The message for a text that is not a duration, the same everywhere.</summary>
    public static string NotADuration(string what, string text) => $"{what} '{text}' is not a duration";

    private static bool TryNumber(ReadOnlySpan<char> text, out double n) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out n) && n <= MaxPart && !text.EndsWith(".") && !text.StartsWith(".");

    private static int RankOf(ReadOnlySpan<char> unit)
    {
        for (var i = 0; i < Units.Length; i++)
        {
            if (unit.Equals(Units[i].Unit, StringComparison.OrdinalIgnoreCase)) return i;
        }

        return -1;
    }
}
