namespace Medic.Contracts;

/// <summary>Shortening text for display and storage, the same way everywhere.</summary>
public static class Texts
{
    /// <summary>
    /// <paramref name="text"/> when it fits in <paramref name="max"/> characters; else its start and
    /// an ellipsis (…), <paramref name="max"/> characters in all, never cutting a surrogate pair in two
    /// (half of one is not valid UTF-8, and a database refuses it).
    /// </summary>
    public static string Truncate(string text, int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        if (text.Length <= max) return text;
        var keep = max - 1;
        if (keep > 0 && char.IsHighSurrogate(text[keep - 1])) keep--;
        return string.Concat(text.AsSpan(0, keep), "…");
    }
}
