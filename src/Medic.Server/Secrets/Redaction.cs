using System.Buffers;
using System.Text;
using Medic.Contracts;

namespace Medic.Server.Secrets;

/// <summary>
/// Replaces every known secret value in a text with <c>[secret:NAME]</c>, in one left-to-right pass:
/// at each place the longest value found there wins, and a value overlapping it widens the cut, so
/// no part of either is left behind. Values shorter than <see cref="MinLength"/> characters are not
/// looked for: they would match ordinary text everywhere.
/// </summary>
internal sealed class Redaction
{
    public const int MinLength = 4;

    public static readonly Redaction None = new([]);

    private readonly (string Value, string Marker)[] _longestFirst;
    private readonly SearchValues<string>? _any;
    private readonly int _maxLength;

    private Redaction((string Value, string Marker)[] longestFirst)
    {
        _longestFirst = longestFirst;
        _any = longestFirst.Length == 0 ? null : SearchValues.Create(longestFirst.Select(v => v.Value).ToArray(), StringComparison.Ordinal);
        _maxLength = longestFirst.Length == 0 ? 0 : longestFirst[0].Value.Length;
    }

    /// <summary>How many values are looked for.</summary>
    public int Count => _longestFirst.Length;

    public static Redaction Of(IReadOnlyDictionary<string, string> valuesByName) => new(
        [.. valuesByName.Where(kv => kv.Value.Length >= MinLength)
            // Two names holding the same value: the first name in order names it.
            .GroupBy(kv => kv.Value, StringComparer.Ordinal).Select(g => g.OrderBy(kv => kv.Key, StringComparer.Ordinal).First())
            .OrderByDescending(kv => kv.Value.Length).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (kv.Value, $"[secret:{kv.Key}]"))]);

    public string Apply(string text)
    {
        if (_any is null || text.Length < MinLength) return text;
        return text.AsSpan().IndexOfAny(_any) < 0 ? text : ApplyBefore(text, text.Length, out _);
    }

    /// <summary>
    /// Redacts <paramref name="text"/> up to <paramref name="limit"/>: every value that starts before it
    /// is cut whole, even when it runs past it; <paramref name="end"/> says where the redacted part
    /// stops (at or past the limit). Live output (<see cref="LiveRedaction"/>) keeps the rest for later.
    /// </summary>
    public string ApplyBefore(string text, int limit, out int end)
    {
        var span = text.AsSpan();
        var result = new StringBuilder(text.Length);
        var at = 0;
        var found = _any is null ? -1 : span.IndexOfAny(_any);
        while (found >= 0 && at + found < limit)
        {
            var start = at + found;
            var (length, marker) = LongestAt(span[start..]);
            var stop = start + length;
            // A value that starts inside this one and runs past its end is cut with it. Such a value
            // ends within the longest value's length of this end, which bounds the search.
            for (var from = start + 1; from < stop;)
            {
                var window = span[from..Math.Min(span.Length, stop + _maxLength - 1)];
                var inner = window.IndexOfAny(_any!);
                if (inner < 0 || from + inner >= stop) break;
                stop = Math.Max(stop, from + inner + LongestAt(span[(from + inner)..]).Length);
                from += inner + 1;
            }

            result.Append(span[at..start]).Append(marker);
            at = stop;
            found = at < span.Length ? span[at..].IndexOfAny(_any!) : -1;
        }

        end = Math.Max(at, limit);
        return result.Append(span[at..end]).ToString();
    }

    /// <summary>
    /// Where the end of <paramref name="text"/> could be the beginning of a value cut off by the end of
    /// a chunk: the first position whose rest is a proper prefix of some value; the text's length when
    /// none is.
    /// </summary>
    public int UnfinishedFrom(string text)
    {
        for (var p = Math.Max(0, text.Length - _maxLength + 1); p < text.Length; p++)
        {
            var rest = text.AsSpan(p);
            foreach (var (value, _) in _longestFirst)
            {
                if (value.Length > rest.Length && value.AsSpan().StartsWith(rest, StringComparison.Ordinal)) return p;
            }
        }

        return text.Length;
    }

    public string? ApplyOrNull(string? text) => text is null ? null : Apply(text);

    /// <summary>A task's result with its output and reason redacted.</summary>
    public TaskRunResponse Apply(TaskRunResponse r) =>
        _any is null ? r : r with { Stdout = Apply(r.Stdout), Stderr = Apply(r.Stderr), Reason = ApplyOrNull(r.Reason) };

    private (int Length, string Marker) LongestAt(ReadOnlySpan<char> text)
    {
        foreach (var (value, marker) in _longestFirst)
        {
            if (text.StartsWith(value, StringComparison.Ordinal)) return (value.Length, marker);
        }

        throw new InvalidOperationException("SearchValues found a value that no stored value starts with");
    }
}
