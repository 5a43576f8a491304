using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Medic.Contracts;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// The webhook credentials valid now for one source: the tenant's current ones and any still in their
/// rotation overlap, plus a signing secret and HTTP basic auth an admin set for that source.
/// </summary>
internal sealed record WebhookCredentialSet(IReadOnlyList<string> SigningSecrets, IReadOnlyList<string> BearerTokens, IReadOnlyList<WebhookBasicAuth>? BasicAuth = null)
{
    public IReadOnlyList<WebhookBasicAuth> BasicAuthOrNone => BasicAuth ?? [];

    public bool Any => SigningSecrets.Count + BearerTokens.Count + BasicAuthOrNone.Count > 0;
}

/// <summary>A user name and password a sender presents as <c>Authorization: Basic</c>.</summary>
internal sealed record WebhookBasicAuth(string Username, string Password);

/// <summary>
/// Which scheme let a delivery in, or why none did: <see cref="Reason"/> for the delivery log and
/// its counters, <see cref="Problem"/> the sentence that explains it (never a secret).
/// </summary>
internal sealed record WebhookAuthResult(string? Scheme, string? Problem, WebhookOutcome Reason = WebhookOutcome.Accepted)
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
/// <item><c>Authorization: Basic BASE64(user:password)</c> with basic auth an admin set for the source.</item>
/// </list>
/// Every comparison is constant-time. A pure function of the headers, body, credentials and time.
/// </summary>
internal static class WebhookAuthenticator
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
    public const string BasicScheme = "basic";

    public static readonly TimeSpan ReplayWindow = TimeSpan.FromMinutes(5);

    public static WebhookAuthResult Check(IHeaderDictionary headers, ReadOnlySpan<byte> body, WebhookCredentialSet credentials, DateTimeOffset now)
    {
        Failure? failure = null;

        if (Header(headers, SignatureHeader) is { } medic)
        {
            var result = CheckMedic(medic, Header(headers, TimestampHeader), body, credentials.SigningSecrets, now);
            if (result is null) return new WebhookAuthResult(MedicScheme, null);
            failure ??= result;
        }

        if (Header(headers, "Authorization") is { } authorization)
        {
            var basic = authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase);
            var result = basic ? CheckBasic(authorization, credentials.BasicAuthOrNone) : CheckBearer(authorization, credentials.BearerTokens);
            if (result is null) return new WebhookAuthResult(basic ? BasicScheme : BearerScheme, null);
            failure ??= result;
        }

        if (Header(headers, GrafanaSignatureHeader) is { } grafana)
        {
            var result = CheckGrafana(grafana, Header(headers, GrafanaTimestampHeader), body, credentials.SigningSecrets, now);
            if (result is null) return new WebhookAuthResult(GrafanaScheme, null);
            failure ??= result;
        }

        if (Header(headers, PagerDutySignatureHeader) is { } pagerDuty)
        {
            var result = CheckPagerDuty(pagerDuty, body, credentials.SigningSecrets);
            if (result is null) return new WebhookAuthResult(PagerDutyScheme, null);
            failure ??= result;
        }

        failure ??= new Failure(WebhookOutcome.NoCredentials,
            $"the delivery carries no webhook credentials: send {SignatureHeader} (HMAC-SHA256 of the body with the tenant's webhook secret), "
            + $"'Authorization: Bearer' with the tenant's webhook token, 'Authorization: Basic' set for the source, {GrafanaSignatureHeader} or {PagerDutySignatureHeader}");
        return new WebhookAuthResult(null, failure.Detail, failure.Reason);
    }

    /// <summary>The value to send as <c>X-Medic-Signature</c>: <c>sha256=HEX</c> of <c>TIMESTAMP.BODY</c>, or of the body alone without a timestamp.</summary>
    public static string Sign(string secret, ReadOnlySpan<byte> body, long? timestamp = null) =>
        "sha256=" + Convert.ToHexStringLower(Hmac(secret, timestamp is { } t ? t.ToString(CultureInfo.InvariantCulture) + "." : null, body));

    /// <summary>Why a scheme refused, for the log and counters, and the sentence that says it.</summary>
    private sealed record Failure(WebhookOutcome Reason, string Detail);

    private static Failure Bad(string detail) => new(WebhookOutcome.BadSignature, detail);

    private static Failure? CheckMedic(string header, string? timestamp, ReadOnlySpan<byte> body, IReadOnlyList<string> secrets, DateTimeOffset now)
    {
        if (!header.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase))
        {
            return new(WebhookOutcome.UnknownScheme, $"{SignatureHeader} is not 'sha256=<hex>'");
        }

        if (Hex(header["sha256=".Length..]) is not { } signature)
        {
            return Bad($"{SignatureHeader} does not hold 64 hex digits after 'sha256='");
        }

        string? prefix = null;
        if (timestamp is not null)
        {
            if (Stale(timestamp, now, TimestampHeader) is { } stale) return stale;
            prefix = timestamp + ".";
        }

        return Matches(signature, secrets, prefix, body)
            ? null
            : Bad($"{SignatureHeader} does not match the body" + (prefix is null ? "" : $" and {TimestampHeader}") + " under the tenant's webhook secret");
    }

    private static Failure? CheckGrafana(string header, string? timestamp, ReadOnlySpan<byte> body, IReadOnlyList<string> secrets, DateTimeOffset now)
    {
        if (Hex(header) is not { } signature)
        {
            return Bad($"{GrafanaSignatureHeader} does not hold 64 hex digits");
        }

        string? prefix = null;
        if (timestamp is not null)
        {
            if (Stale(timestamp, now, GrafanaTimestampHeader) is { } stale) return stale;
            prefix = timestamp + ":";
        }

        return Matches(signature, secrets, prefix, body)
            ? null
            : Bad($"{GrafanaSignatureHeader} does not match the body under the tenant's webhook secret (set it as the contact point's HMAC secret)");
    }

    private static Failure? CheckPagerDuty(string header, ReadOnlySpan<byte> body, IReadOnlyList<string> secrets)
    {
        var any = false;
        foreach (var entry in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!entry.StartsWith("v1=", StringComparison.Ordinal) || Hex(entry[3..]) is not { } signature) continue;
            any = true;
            if (Matches(signature, secrets, null, body)) return null;
        }

        return any
            ? Bad($"no v1 entry of {PagerDutySignatureHeader} matches the body under the source's signing secret (set PagerDuty's with 'medic webhooks set-secret pagerduty')")
            : Bad($"{PagerDutySignatureHeader} holds no 'v1=<hex>' entry");
    }

    private static Failure? CheckBearer(string header, IReadOnlyList<string> tokens)
    {
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return new(WebhookOutcome.UnknownScheme, "the Authorization header is neither 'Bearer <token>' nor 'Basic <credentials>'");
        }

        var match = false;
        foreach (var token in tokens) match |= SameSecret(header["Bearer ".Length..].Trim(), token);
        return match ? null : new(WebhookOutcome.WrongToken, "the bearer token is not this tenant's webhook token (API tokens do not work here)");
    }

    private static Failure? CheckBasic(string header, IReadOnlyList<WebhookBasicAuth> accounts)
    {
        string presented;
        try
        {
            presented = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
        }
        catch (FormatException)
        {
            return new(WebhookOutcome.WrongBasicAuth, "the Authorization header's basic credentials are not base64");
        }

        var colon = presented.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) return new(WebhookOutcome.WrongBasicAuth, "the Authorization header's basic credentials are not 'user:password'");
        var match = false;
        foreach (var account in accounts)
        {
            // Both halves are compared every time, so the answer's timing does not tell a right user name from a wrong one.
            match |= SameSecret(presented[..colon], account.Username) & SameSecret(presented[(colon + 1)..], account.Password);
        }

        return match ? null : new(WebhookOutcome.WrongBasicAuth, "the basic auth user name or password is not the one set for this source");
    }

    /// <summary>Hashing first makes both sides the same length, so the comparison time says nothing about the secret.</summary>
    private static bool SameSecret(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    private static Failure? Stale(string timestamp, DateTimeOffset now, string header)
    {
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 253_402_300_799)
        {
            return new(WebhookOutcome.StaleTimestamp, $"{header} is not a Unix time in seconds");
        }

        var skew = now.ToUnixTimeSeconds() - seconds;
        return Math.Abs(skew) <= (long)ReplayWindow.TotalSeconds
            ? null
            : new(WebhookOutcome.StaleTimestamp, $"{header} is {Math.Abs(skew)} s {(skew > 0 ? "old" : "in the future")}; deliveries are accepted within {ReplayWindow.TotalSeconds:0} s of the server's clock");
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
