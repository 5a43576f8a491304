using System.Security.Cryptography;
using System.Text;
using Medic.Contracts;
using Medic.Server.Detection.Webhooks;
using Microsoft.AspNetCore.Http;

namespace Medic.Server.Tests.Detection.Webhooks;

/// <summary>Each way a sender proves it holds the tenant's webhook credentials, and each way it can fail.</summary>
public static class WebhookAuthenticatorTests
{
    private const string Secret = "mws_current-secret";
    private const string OldSecret = "mws_old-secret";
    private const string Token = "mwt_current-token";
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 13, 30, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Payloads.Bytes("alertmanager-firing.json");
    private static readonly WebhookCredentialSet Credentials = new([Secret], [Token]);

    private static WebhookAuthResult Check(byte[] body, WebhookCredentialSet? credentials = null, params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers) dictionary[name] = value;
        return WebhookAuthenticator.Check(dictionary, body, credentials ?? Credentials, Now);
    }

    private static string Refused(this WebhookAuthResult result)
    {
        result.Ok.ShouldBeFalse();
        return result.Problem.ShouldNotBeNull();
    }

    private static string Hex(string secret, string text) => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(text)));

    private static byte[] OneByteChanged(byte[] body)
    {
        var copy = (byte[])body.Clone();
        var at = Array.IndexOf(copy, (byte)'9'); // 93.4% full becomes 83.4% full
        copy[at] = (byte)'8';
        return copy;
    }

    [Fact]
    public static void A_Medic_signature_of_the_body_is_accepted_and_one_changed_byte_is_not()
    {
        var signature = WebhookAuthenticator.Sign(Secret, Body);

        Check(Body, null, ("X-Medic-Signature", signature)).Scheme.ShouldBe("medic-signature");
        signature.ShouldBe("sha256=" + Hex(Secret, Encoding.UTF8.GetString(Body)));
        Check(OneByteChanged(Body), null, ("X-Medic-Signature", signature)).Refused().ShouldContain("does not match the body");
        Check(Body, new([OldSecret], []), ("X-Medic-Signature", signature)).Ok.ShouldBeFalse();
    }

    [Fact]
    public static void A_timestamped_Medic_signature_is_accepted_within_five_minutes_and_refused_outside()
    {
        var fresh = Now.ToUnixTimeSeconds() - 299;
        var stale = Now.ToUnixTimeSeconds() - 301;

        Check(Body, null, ("X-Medic-Timestamp", fresh.ToString()), ("X-Medic-Signature", WebhookAuthenticator.Sign(Secret, Body, fresh))).Ok.ShouldBeTrue();
        Check(Body, null, ("X-Medic-Timestamp", stale.ToString()), ("X-Medic-Signature", WebhookAuthenticator.Sign(Secret, Body, stale))).Refused()
            .ShouldBe("X-Medic-Timestamp is 301 s old; deliveries are accepted within 300 s of the server's clock");
        var future = Now.ToUnixTimeSeconds() + 400;
        Check(Body, null, ("X-Medic-Timestamp", future.ToString()), ("X-Medic-Signature", WebhookAuthenticator.Sign(Secret, Body, future))).Refused().ShouldContain("in the future");
        // A captured signature cannot be replayed with a fresh timestamp: the timestamp is signed.
        Check(Body, null, ("X-Medic-Timestamp", fresh.ToString()), ("X-Medic-Signature", WebhookAuthenticator.Sign(Secret, Body, stale))).Ok.ShouldBeFalse();
        Check(Body, null, ("X-Medic-Timestamp", "soon"), ("X-Medic-Signature", WebhookAuthenticator.Sign(Secret, Body))).Refused().ShouldContain("not a Unix time");
    }

    [Fact]
    public static void The_bearer_token_is_accepted_and_any_other_is_not()
    {
        Check(Body, null, ("Authorization", "Bearer " + Token)).Scheme.ShouldBe("bearer");
        Check(Body, null, ("Authorization", "Bearer mdk_an-api-token")).Refused().ShouldContain("not this tenant's webhook token");
        Check(Body, null, ("Authorization", "Token " + Token)).Refused().ShouldContain("neither 'Bearer <token>' nor 'Basic <credentials>'");
        Check(Body, null, ("Authorization", "Token " + Token)).Reason.ShouldBe(WebhookOutcome.UnknownScheme);
        Check(Body, null, ("Authorization", "Bearer mdk_an-api-token")).Reason.ShouldBe(WebhookOutcome.WrongToken);
    }

    [Fact]
    public static void Basic_auth_set_for_the_source_is_accepted_and_a_wrong_user_or_password_is_not()
    {
        static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));
        var withBasic = new WebhookCredentialSet([Secret], [Token], [new WebhookBasicAuth("alertmanager", "pass:word-with-a-colon")]);

        Check(Body, withBasic, ("Authorization", Basic("alertmanager", "pass:word-with-a-colon"))).Scheme.ShouldBe("basic");
        Check(Body, withBasic, ("Authorization", Basic("alertmanager", "pass:word"))).Reason.ShouldBe(WebhookOutcome.WrongBasicAuth);
        Check(Body, withBasic, ("Authorization", Basic("grafana", "pass:word-with-a-colon"))).Refused().ShouldContain("user name or password");
        Check(Body, withBasic, ("Authorization", "Basic !!!")).Refused().ShouldContain("not base64");
        // Without basic auth set for the source, no pair opens it.
        Check(Body, null, ("Authorization", Basic("", ""))).Reason.ShouldBe(WebhookOutcome.WrongBasicAuth);
    }

    [Fact]
    public static void Grafanas_signature_is_checked_with_and_without_its_timestamp()
    {
        var body = Payloads.Bytes("grafana-firing.json");
        var ts = Now.ToUnixTimeSeconds().ToString();

        Check(body, null, ("X-Grafana-Alerting-Signature", Hex(Secret, Encoding.UTF8.GetString(body)))).Scheme.ShouldBe("grafana-signature");
        Check(body, null, ("X-Grafana-Alerting-Signature", Hex(Secret, ts + ":" + Encoding.UTF8.GetString(body))), ("X-Grafana-Alerting-Signature-Timestamp", ts)).Ok.ShouldBeTrue();
        var old = (Now.ToUnixTimeSeconds() - 600).ToString();
        Check(body, null, ("X-Grafana-Alerting-Signature", Hex(Secret, old + ":" + Encoding.UTF8.GetString(body))), ("X-Grafana-Alerting-Signature-Timestamp", old)).Refused().ShouldContain("600 s old");
        Check(body, null, ("X-Grafana-Alerting-Signature", Hex("wrong", Encoding.UTF8.GetString(body)))).Refused().ShouldContain("does not match");
    }

    [Fact]
    public static void Any_v1_entry_of_PagerDutys_signature_may_match()
    {
        var body = Payloads.Bytes("pagerduty-triggered.json");
        var good = "v1=" + Hex(Secret, Encoding.UTF8.GetString(body));
        var other = "v1=" + Hex("another-secret", Encoding.UTF8.GetString(body));

        Check(body, null, ("X-PagerDuty-Signature", $"{other},{good}")).Scheme.ShouldBe("pagerduty-signature");
        Check(body, null, ("X-PagerDuty-Signature", other)).Refused().ShouldContain("no v1 entry");
        Check(body, null, ("X-PagerDuty-Signature", "v0=abc")).Refused().ShouldContain("no 'v1=<hex>' entry");
    }

    [Fact]
    public static void During_a_rotation_overlap_the_old_and_new_secrets_both_verify()
    {
        var both = new WebhookCredentialSet([Secret, OldSecret], [Token]);

        Check(Body, both, ("X-Medic-Signature", WebhookAuthenticator.Sign(OldSecret, Body))).Ok.ShouldBeTrue();
        Check(Body, both, ("X-Medic-Signature", WebhookAuthenticator.Sign(Secret, Body))).Ok.ShouldBeTrue();
    }

    [Fact]
    public static void Missing_and_malformed_credentials_are_named()
    {
        Check(Body).Refused().ShouldContain("carries no webhook credentials");
        Check(Body).Reason.ShouldBe(WebhookOutcome.NoCredentials);
        Check(Body, null, ("X-Medic-Signature", "md5=abc")).Refused().ShouldContain("not 'sha256=<hex>'");
        Check(Body, null, ("X-Medic-Signature", "sha256=zz")).Refused().ShouldContain("64 hex digits");
        // A wrong signature next to a valid token still gets in: any one scheme is enough.
        Check(Body, null, ("X-Medic-Signature", "sha256=" + new string('0', 64)), ("Authorization", "Bearer " + Token)).Scheme.ShouldBe("bearer");
    }
}
