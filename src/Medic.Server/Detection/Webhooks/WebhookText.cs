using System.Security.Cryptography;
using System.Text;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// The limits and clean-up every adapter applies, so that whatever a sender puts in a field can be
/// stored on both dialects: no NUL or other control characters but tab and line breaks (PostgreSQL text
/// cannot hold NUL), no unpaired surrogates (not encodable as UTF-8), and bounded lengths.
/// </summary>
internal static class WebhookText
{
    public const int MaxTitle = 300;
    public const int MaxSummary = 4000;
    public const int MaxFingerprint = 200;
    public const int MaxLabels = 100;
    public const int MaxLabelKey = 200;
    public const int MaxLabelValue = 2000;
    public const string DefaultSeverity = "warning";

    /// <summary>Label names that name the machine an alert is about, in the order they are believed.</summary>
    public static readonly IReadOnlyList<string> HostLabels = ["instance", "host", "hostname", "nodename", "node", "server"];

    public static string Clean(string text, int maxLength)
    {
        StringBuilder? copy = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var keep = true;
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    copy?.Append(c).Append(text[i + 1]);
                    i++;
                    continue;
                }

                keep = false;
            }
            else if (char.IsLowSurrogate(c) || (c < ' ' && c is not '\t' and not '\n' and not '\r') || c == '\u007f')
            {
                keep = false;
            }

            if (!keep && copy is null)
            {
                copy = new StringBuilder(text.Length).Append(text, 0, i);
            }

            copy?.Append(keep ? c : '\uFFFD');
        }

        var clean = copy?.ToString() ?? text;
        if (clean.Length <= maxLength)
        {
            return clean;
        }

        var cut = maxLength - 1;
        if (char.IsHighSurrogate(clean[cut - 1])) cut--;
        return string.Concat(clean.AsSpan(0, cut), "…");
    }

    public static IReadOnlyDictionary<string, string> CleanMap(IReadOnlyDictionary<string, string> map)
    {
        var clean = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in map)
        {
            clean[Clean(key, MaxLabelKey)] = Clean(value, MaxLabelValue);
        }

        return clean;
    }

    /// <summary>The host an alert names, without a port: <c>web-1:9100</c> → <c>web-1</c>, <c>[::1]:9100</c> → <c>::1</c>.</summary>
    public static string? ServerHint(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var name in HostLabels)
        {
            if (labels.TryGetValue(name, out var value) && StripPort(value) is { Length: > 0 } host)
            {
                return host;
            }
        }

        return null;
    }

    public static string StripPort(string value)
    {
        var text = value.Trim();
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            return close > 1 ? text[1..close] : text;
        }

        var colon = text.LastIndexOf(':');
        // More than one colon without brackets is a bare IPv6 address, not host:port.
        if (colon > 0 && colon == text.IndexOf(':', StringComparison.Ordinal) && colon < text.Length - 1 && text.AsSpan(colon + 1).IndexOfAnyExceptInRange('0', '9') < 0)
        {
            return text[..colon];
        }

        return text;
    }

    /// <summary>critical, warning or info from the words senders use; null when the word means nothing here.</summary>
    public static string? Severity(string? word) => word?.Trim().ToLowerInvariant() switch
    {
        "critical" or "crit" or "page" or "error" or "high" or "fatal" or "emergency" or "alert" or "disaster" or "p1" or "p2" or "sev1" or "sev2" => "critical",
        "warning" or "warn" or "medium" or "average" or "major" or "minor" or "p3" or "sev3" => "warning",
        "info" or "information" or "informational" or "low" or "none" or "notice" or "ok" or "debug" or "p4" or "p5" or "sev4" or "sev5" => "info",
        _ => null,
    };

    /// <summary>A stable fingerprint for a sender that gives none: SHA-256 of the parts, 32 hex digits.</summary>
    public static string Digest(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', parts))))[..32];

    /// <summary>Labels in a stable order, for digests: <c>a=1\nb=2</c>.</summary>
    public static string Canonical(IReadOnlyDictionary<string, string> labels) =>
        string.Join('\n', labels.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
}
