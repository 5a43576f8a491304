using System.Text;
using System.Text.RegularExpressions;

namespace Medic.Server.Common;

/// <summary>
/// Hides credentials that people put inside URLs: the userinfo (<c>user:pass@</c>), query values
/// and fragments whose name says secret (<c>token</c>, <c>key</c>, <c>sig</c>, …), path segments
/// after such a word, and any path segment or value that looks like a random token (16 or more
/// token characters with letters and digits, such as a UUID or a webhook secret). The one helper
/// for every place a URL is shown to someone who did not set it, or written to the audit log.
/// </summary>
internal static partial class UrlMask
{
    public const string Hidden = "***";

    // Words that name a secret, matched against whole parts of a name split at '-', '_' and '.'.
    private static readonly HashSet<string> SecretWords = new(StringComparer.Ordinal)
    {
        "token", "tokens", "key", "keys", "apikey", "secret", "secrets", "password", "passwd", "pass", "pwd", "auth", "authorization",
        "sig", "signature", "credential", "credentials", "session", "sessionid", "bearer", "jwt", "code",
    };

    // A path segment after one of these is the secret itself (/token/abc…, /api/key/abc…).
    private static readonly HashSet<string> PathSecretWords = new(StringComparer.Ordinal)
    {
        "token", "tokens", "key", "keys", "apikey", "api-key", "api_key", "secret", "secrets", "password",
    };

    /// <summary>The URL with its credentials replaced by <see cref="Hidden"/>; text without a scheme comes back unchanged.</summary>
    public static string Mask(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return url;
        }

        var start = schemeEnd + 3;
        var authorityEnd = url.IndexOfAny(['/', '?', '#'], start);
        if (authorityEnd < 0) authorityEnd = url.Length;
        var result = new StringBuilder(url.Length).Append(url, 0, start);

        var authority = url[start..authorityEnd];
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userinfo = authority[..at];
            var colon = userinfo.IndexOf(':', StringComparison.Ordinal);
            // A lone user name is often the token itself (https://TOKEN@host), so it goes too.
            result.Append(colon >= 0 ? userinfo[..colon] + ":" + Hidden : Hidden).Append(authority[at..]);
        }
        else
        {
            result.Append(authority);
        }

        return result.Append(MaskRelative(url[authorityEnd..])).ToString();
    }

    /// <summary>A path with its query and fragment (<c>/a/b?x=y</c>), masked like the same part of a full URL.</summary>
    /// <param name="keepMedicIds">
    /// For Medic's own API paths (the audit log's targets): keep the ids Medic itself makes
    /// (<c>apr_</c> and 32 hex digits), which name what was acted on and are no secret.
    /// </param>
    public static string MaskRelative(string rest, bool keepMedicIds = false)
    {
        var result = new StringBuilder(rest.Length);
        var fragmentAt = rest.IndexOf('#', StringComparison.Ordinal);
        var fragment = fragmentAt >= 0 ? rest[(fragmentAt + 1)..] : null;
        if (fragmentAt >= 0) rest = rest[..fragmentAt];
        var queryAt = rest.IndexOf('?', StringComparison.Ordinal);
        var path = queryAt >= 0 ? rest[..queryAt] : rest;
        var query = queryAt >= 0 ? rest[(queryAt + 1)..] : null;

        result.Append(MaskPath(path, keepMedicIds));
        if (query is not null) result.Append('?').Append(MaskPairs(query));
        if (fragment is not null) result.Append('#').Append(fragment.Contains('=', StringComparison.Ordinal) ? MaskPairs(fragment) : MaskValue(fragment));
        return result.ToString();
    }

    /// <summary>Every URL inside <paramref name="text"/> masked (a check's detail, a command line, a summary).</summary>
    public static string MaskIn(string text) => text.Contains("://", StringComparison.Ordinal) ? UrlPattern().Replace(text, m => Mask(m.Value)) : text;

    /// <summary>Null-preserving <see cref="MaskIn"/>.</summary>
    public static string? MaskInOrNull(string? text) => text is null ? null : MaskIn(text);

    private static string MaskPath(string path, bool keepMedicIds)
    {
        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            if (keepMedicIds && MedicId().IsMatch(segments[i])) continue;
            if ((i > 0 && segments[i].Length > 0 && PathSecretWords.Contains(Uri.UnescapeDataString(segments[i - 1]).ToLowerInvariant())) || LooksLikeToken(segments[i]))
            {
                segments[i] = Hidden;
            }
        }

        return string.Join('/', segments);
    }

    private static string MaskPairs(string pairs) => string.Join('&', pairs.Split('&').Select(pair =>
    {
        var eq = pair.IndexOf('=', StringComparison.Ordinal);
        if (eq < 0) return MaskValue(pair);
        var name = pair[..eq];
        var value = pair[(eq + 1)..];
        return value.Length > 0 && (NamesSecret(name) || LooksLikeToken(value)) ? name + "=" + Hidden : pair;
    }));

    private static string MaskValue(string value) => LooksLikeToken(value) ? Hidden : value;

    private static bool NamesSecret(string name)
    {
        var decoded = Uri.UnescapeDataString(name).ToLowerInvariant();
        return decoded.Split(['-', '_', '.'], StringSplitOptions.RemoveEmptyEntries).Any(SecretWords.Contains);
    }

    /// <summary>Random-looking: long, only token characters, with both letters and digits.</summary>
    private static bool LooksLikeToken(string value)
    {
        if (value.Length < 16) return false;
        var letters = 0;
        var digits = 0;
        foreach (var ch in value)
        {
            if (char.IsAsciiLetter(ch)) letters++;
            else if (char.IsAsciiDigit(ch)) digits++;
            else if (ch is not ('-' or '_' or '.' or '~' or '+' or '=' or '%')) return false;
        }

        return letters >= 2 && digits >= 2;
    }

    [GeneratedRegex(@"[A-Za-z][A-Za-z0-9+.\-]*://[^\s""'<>]+")]
    private static partial Regex UrlPattern();

    // What Hosting.Ids.New makes: a short lowercase prefix, '_', a version-7 GUID in 32 hex digits.
    [GeneratedRegex("^[a-z]{2,8}_[0-9a-f]{32}$")]
    private static partial Regex MedicId();
}
