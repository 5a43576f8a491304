namespace Medic.Server.Fleet;

/// <summary>Host names to try for a server hint: as given, without a port, and the short name.</summary>
internal static class HostHints
{
    public static IReadOnlyList<string> Candidates(string? hint)
    {
        if (string.IsNullOrWhiteSpace(hint)) return [];
        var h = hint.Trim().ToLowerInvariant();
        if (h.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(h, UriKind.Absolute, out var uri)) h = uri.Host;
        var names = new List<string> { h };
        var bare = h;
        if (h.StartsWith('[') && h.IndexOf(']', StringComparison.Ordinal) is > 0 and var end) bare = h[1..end];
        else if (h.Count(ch => ch == ':') == 1) bare = h[..h.IndexOf(':', StringComparison.Ordinal)];
        if (bare != h) names.Add(bare);
        var dot = bare.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0 && !System.Net.IPAddress.TryParse(bare, out _)) names.Add(bare[..dot]);
        return names.Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).ToList();
    }
}
