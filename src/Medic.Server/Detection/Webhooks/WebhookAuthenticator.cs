using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Medic.Server.Detection.Webhooks;

/// <summary>The tenant's webhook credentials that are valid now: the current ones and any still in their rotation overlap.</summary>
public sealed record WebhookCredentialSet(IReadOnlyList<string> SigningSecrets, IReadOnlyList<string> BearerTokens);

/// <summary>Which scheme let a delivery in, or why none did (the detail of the 401).</summary>
public sealed record WebhookAuthResult(string? Scheme, string? Problem)
{
    public bool Ok => Scheme is not null;
}

/// <summary>
/// Decides whether a delivery comes from someone holding the tenant's webhook credentials. Any
/// one of these is enough:
/// <list type="bullet">
/// <item><c>X-Medic-Signature: sha256=HEX</c>, HMAC-SHA256 of the raw body under the signing secret;
/// with <c>X-Medic-Timestamp: UNIX_SECONDS</c> the signed text is <c>TIMESTAMP.BODY</c> and the
/// timestamp must be within 5 minutes of the server's clock.</item>
/// <item><c>Authorization: Bearer TOKEN</c> with the tenant's webhook token (Alertmanager cannot sign).</item>
/// <item>Grafana's <c>X-Grafana-Alerting-Signature: HEX</c> of the body, or of <c>TIMESTAMP:BODY</c>
/// when <c>X-Grafana-Alerting-Signature-Timestamp</c> is sent (same 5-minute window).</item>
/// <item>PagerDuty's <c>X-PagerDuty-Signature: v1=HEX[,v1=HEX…]</c>; any entry may match.</item>
/// </list>
/// Every comparison is constant-time. A pure function of the headers, body, credentials and time.
/// </summary>
public static class WebhookAuthenticator
{
    public const string SignatureHeader = "X-Medic-Signature";
    public const string TimestampHeader = "X-Medic-Timestamp";
    public const string GrafanaSignatureHeader = "X-Grafana-Alerting-Signature";
    public const string GrafanaTimestampHeader = "X-Grafana-Alerting-Signature-Timestamp";
    public const string PagerDutySignatureHeader = "X-PagerDuty-Signature";

    public const string MedicScheme = "medic-signature";
    public const string BearerScheme = "bearer";
    public const string GrafanaScheme = "grafana-signature";
    public const string PagerDutyScheme = "pagerduty-signature";

    public static readonly TimeSpan ReplayWindow = TimeSpan.FromMinutes(5);

    public static WebhookAuthResult Check(IHeaderDictionary headers, ReadOnlySpan<byte> body, WebhookCredentialSet credentials, DateTimeOffset now)
    {
        string? problem = null;

        if (Header(headers, SignatureHeader) is { } medic)
        {
            var result = CheckMedic(medic, Header(headers, TimestampHeader), body, credentials.SigningSecrets, now);
            if (result is null) return new WebhookAuthResult(MedicScheme, null);
            problem ??= result;
        }

        if (Header(headers, "Authorization") is { } authorization)
        {
            var result = CheckBearer(authorization, credentials.BearerTokens);
            if (result is null) return new WebhookAuthResult(BearerScheme, null);
            problem ??= result;
        }

        if (Header(headers, GrafanaSignatureHeader) is { } grafana)
        {
            var result = CheckGrafana(grafana, Header(headers, GrafanaTimestampHeader), body, credentials.SigningSecrets, now);
            if (result is null) return new WebhookAuthResult(GrafanaScheme, null);
            problem ??= result;
        }

        if (Header(headers, PagerDutySignatureHeader) is { } pagerDuty)
        {
            var result = CheckPagerDuty(pagerDuty, body, credentials.SigningSecrets);
            if (result is null) return new WebhookAuthResult(PagerDutyScheme, null);
            problem ??= result;
        }

        return new WebhookAuthResult(null, problem
            ?? $"the delivery carries no webhook credentials: send {SignatureHeader} (HMAC-SHA256 of the body with the tenant's webhook secret), "
               + $"'Authorization: Bearer' with the tenant's webhook token, {GrafanaSignatureHeader} or {PagerDutySignatureHeader}");
    }

    /// <summary>The value to send as <c>X-Medic-Signature</c>: <c>sha256=HEX</c> of <c>TIMESTAMP.BODY</c>, or of the body alone without a timestamp.</summary>
    public static string Sign(string secret, ReadOnlySpan<byte> body, long? timestamp = null) =>
        "sha256=" + Convert.ToHexStringLower(Hmac(secret, timestamp is { } t ? t.ToString(CultureInfo.InvariantCulture) + "." : null, body));

    private static string? CheckMedic(string header, string? timestamp, ReadOnlySpan<byte> body, IReadOnlyList<string> secrets, DateTimeOffset now)
    {
        if (!header.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase))
        {
            return $"{SignatureHeader} is not 'sha256=<hex>'";
        }

        if (Hex(header["sha256=".Length..]) is not { } signature)
        {
            return $"{SignatureHeader} does not hold 64 hex digits after 'sha256='";
        }

        string? prefix = null;
        if (timestamp is not null)
        {
            if (Stale(timestamp, now, TimestampHeader) is { } stale) return stale;
            prefix = timestamp + ".";
        }

        return Matches(signature, secrets, prefix, body)
            ? null
            : $"{SignatureHeader} does not match the body" + (prefix is null ? "" : $" and {TimestampHeader}") + " under the tenant's webhook secret";
    }

    private static string? CheckGrafana(string header, string? timestamp, ReadOnlySpan<byte> body, IReadOnlyList<string> secrets, DateTimeOffset now)
    {
        if (Hex(header) is not { } signature)
        {
            return $"{GrafanaSignatureHeader} does not hold 64 hex digits";
        }

        string? prefix = null;
        if (timestamp is not null)
        {
            if (Stale(timestamp, now, GrafanaTimestampHeader) is { } stale) return stale;
            prefix = timestamp + ":";
        }

        return Matches(signature, secrets, prefix, body)
            ? null
            : $"{GrafanaSignatureHeader} does not match the body under the tenant's webhook secret (set it as the contact point's HMAC secret)";
    }

    private static string? CheckPagerDuty(string header, ReadOnlySpan<byte> body, IReadOnlyList<string> secrets)
    {
        var any = false;
        foreach (var entry in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!entry.StartsWith("v1=", StringComparison.Ordinal) || Hex(entry[3..]) is not { } signature) continue;
            any = true;
            if (Matches(signature, secrets, null, body)) return null;
        }

        return any
            ? $"no v1 entry of {PagerDutySignatureHeader} matches the body under the tenant's webhook secret"
            : $"{PagerDutySignatureHeader} holds no 'v1=<hex>' entry";
    }

    private static string? CheckBearer(string header, IReadOnlyList<string> tokens)
    {
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return "the Authorization header is not 'Bearer <token>'";
        }

        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        var match = false;
        foreach (var token in tokens)
        {
            // Hashing first makes both sides the same length, so the comparison time says nothing about the token.
            match |= CryptographicOperations.FixedTimeEquals(presented, SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        }

        return match ? null : "the bearer token is not this tenant's webhook token (API tokens do not work here)";
    }

    private static string? Stale(string timestamp, DateTimeOffset now, string header)
    {
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 253_402_300_799)
        {
            return $"{header} is not a Unix time in seconds";
        }

        var skew = now.ToUnixTimeSeconds() - seconds;
        return Math.Abs(skew) <= (long)ReplayWindow.TotalSeconds
            ? null
            : $"{header} is {Math.Abs(skew)} s {(skew > 0 ? "old" : "in the future")}; deliveries are accepted within {ReplayWindow.TotalSeconds:0} s of the server's clock";
    }

    private static bool Matches(byte[] signature, IReadOnlyList<string> secrets, string? prefix, ReadOnlySpan<byte> body)
    {
        var match = false;
        foreach (var secret in secrets)
        {
            match |= CryptographicOperations.FixedTimeEquals(signature, Hmac(secret, prefix, body));
        }

        return match;
    }

    private static byte[] Hmac(string secret, string? prefix, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        if (prefix is not null) hmac.AppendData(Encoding.UTF8.GetBytes(prefix));
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    private static byte[]? Hex(string text)
    {
        var hex = text.Trim();
        if (hex.Length != 64) return null;
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string? Header(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var values) && values.ToString() is { Length: > 0 } value ? value : null;
}
