using System.Text;
using System.Text.RegularExpressions;

namespace Medic.Agent.Policy;

/// <summary>
/// Masks obvious secrets in text that leaves the node (log lines, command and task output, probe
/// bodies): <c>password=</c> / <c>passwd:</c> style pairs and names ending in _KEY, _TOKEN or
/// _SECRET (bare, quoted or inside JSON), Authorization headers and bearer tokens, PEM private key
/// blocks (also across lines and across output chunks), AWS access key ids, passwords in URLs, and
/// the secret values the agent itself holds. It is a filter for the obvious, not a guarantee.
/// </summary>
internal sealed partial class SecretRedactor
{
    public const string Mask = "[REDACTED]";

    private readonly string[] _known;

    /// <param name="knownSecrets">Values masked wherever they appear (shorter than 8 characters are ignored: too likely to be ordinary text).</param>
    public SecretRedactor(IEnumerable<string?> knownSecrets) =>
        _known = knownSecrets.OfType<string>().Where(s => s.Length >= 8).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length).ToArray();

    public static SecretRedactor None { get; } = new([]);

    /// <summary>Text complete in itself (an evidence value, a reason).</summary>
    public string Redact(string text)
    {
        var inKey = false;
        return Redact(text, ref inKey);
    }

    /// <summary>
    /// One piece of a stream; <paramref name="insidePrivateKey"/> carries over to the next piece, so
    /// a key block split across pieces stays masked. Pieces should end at line breaks (see <see cref="Stream"/>).
    /// </summary>
    public string Redact(string text, ref bool insidePrivateKey)
    {
        if (text.Length == 0) return text;
        var masked = MaskPrivateKeys(text, ref insidePrivateKey);
        foreach (var secret in _known) masked = masked.Replace(secret, Mask, StringComparison.Ordinal);
        masked = AuthorizationHeader().Replace(masked, m => m.Groups["head"].Value + Mask);
        masked = BearerToken().Replace(masked, m => m.Groups["head"].Value + Mask);
        masked = UrlPassword().Replace(masked, m => m.Groups["head"].Value + Mask + "@");
        masked = AwsAccessKey().Replace(masked, Mask);
        masked = SecretPair().Replace(masked, m => m.Groups["key"].Value + m.Groups["sep"].Value + Requote(m.Groups["value"].Value));
        return masked;
    }

    /// <summary>A redacting view of one output stream: holds back an unfinished line so no secret is split between two pieces.</summary>
    public StreamRedactor Stream() => new(this);

    /// <summary>The mask inside the value's own quotes (plain or JSON-escaped), so the surrounding text still parses.</summary>
    private static string Requote(string value)
    {
        foreach (var quote in (ReadOnlySpan<string>)["\\\"", "\"", "'"])
        {
            if (value.StartsWith(quote, StringComparison.Ordinal))
            {
                return quote + Mask + (value.Length >= 2 * quote.Length && value.EndsWith(quote, StringComparison.Ordinal) ? quote : "");
            }
        }

        return Mask;
    }

    private static string MaskPrivateKeys(string text, ref bool inside)
    {
        if (!inside && !text.Contains("PRIVATE KEY", StringComparison.OrdinalIgnoreCase)) return text;
        var result = new StringBuilder(text.Length);
        var position = 0;
        while (position < text.Length)
        {
            if (inside)
            {
                var end = PemEnd().Match(text, position);
                if (!end.Success) return result.ToString(); // everything to the end is key material
                inside = false;
                position = end.Index;
                continue;
            }

            var begin = PemBegin().Match(text, position);
            if (!begin.Success)
            {
                result.Append(text, position, text.Length - position);
                break;
            }

            result.Append(text, position, begin.Index + begin.Length - position).Append(Mask);
            inside = true;
            position = begin.Index + begin.Length;
        }

        return result.ToString();
    }

    [GeneratedRegex(@"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----", RegexOptions.IgnoreCase)]
    private static partial Regex PemBegin();

    [GeneratedRegex(@"-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----", RegexOptions.IgnoreCase)]
    private static partial Regex PemEnd();

    [GeneratedRegex(@"(?<head>\bauthorization\\?[""']?[ \t]*[:=][ \t]*\\?[""']?[ \t]*(?:bearer|basic|token|digest|negotiate)?[ \t]*)[^\s""',;\\]+", RegexOptions.IgnoreCase)]
    private static partial Regex AuthorizationHeader();

    [GeneratedRegex(@"(?<head>\bbearer\s+)(?!\[REDACTED\])[A-Za-z0-9\-._~+/]{6,}=*", RegexOptions.IgnoreCase)]
    private static partial Regex BearerToken();

    [GeneratedRegex(@"(?<head>\b[a-z][a-z0-9+.\-]*://[^/\s:@""']+:)[^/\s@""']+@", RegexOptions.IgnoreCase)]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b")]
    private static partial Regex AwsAccessKey();

    // key: a name holding pass/passwd/password/pwd/passphrase/secret/token/credential, or ending in _key / -key / apikey;
    // sep: an optional closing quote (also JSON-escaped), then = or :; value: quoted (also \"...\") or bare.
    [GeneratedRegex(@"(?<key>\b[A-Za-z0-9_.\-]*(?:passw(?:or)?d|passwd|pwd|passphrase|secret|token|credentials?|api[_\-]?key|[_\-.]key)\b)(?<sep>(?:\\?[""'])?[ \t]*[:=][ \t]*)(?<value>\\?""(?:[^""\\]|\\[^""])*\\?""|'[^']*'|(?!\[REDACTED\])[^\s""',;&}\]\\]+)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretPair();

}

/// <summary>One output stream through a <see cref="SecretRedactor"/>: passes whole lines, holds back the unfinished one (up to a limit) until its line break or <see cref="Flush"/>.</summary>
internal sealed class StreamRedactor(SecretRedactor redactor)
{
    private const int MaxHeldChars = 64 * 1024;
    private readonly StringBuilder _held = new();
    private bool _insidePrivateKey;

    /// <summary>What of <paramref name="piece"/> (with what was held) may go out now, masked; empty when all of it is held.</summary>
    public string Push(string piece)
    {
        _held.Append(piece);
        var text = _held.ToString();
        var cut = text.LastIndexOf('\n') + 1;
        if (cut == 0 && text.Length < MaxHeldChars) return "";
        if (cut == 0) cut = text.Length;
        _held.Clear().Append(text, cut, text.Length - cut);
        return redactor.Redact(text[..cut], ref _insidePrivateKey);
    }

    /// <summary>The held rest, masked (at the end of the stream).</summary>
    public string Flush()
    {
        var text = _held.ToString();
        _held.Clear();
        return redactor.Redact(text, ref _insidePrivateKey);
    }
}
