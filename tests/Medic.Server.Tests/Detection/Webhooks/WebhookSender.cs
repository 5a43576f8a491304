using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Medic.Contracts;
using Medic.Server.Detection.Webhooks;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Detection.Webhooks;

/// <summary>Posts deliveries the way each sender does: raw bytes, its own headers.</summary>
public static class WebhookSender
{
    public static string Path(string tenant, string source) => $"/api/v1/webhooks/alerts/{tenant}/{source}";

    public static async Task<WebhooksResponse> CredentialsAsync(HttpClient admin)
    {
        using var response = await admin.GetAsync("/api/v1/webhooks");
        return await response.ReadAsync(MedicJson.Default.WebhooksResponse);
    }

    public static async Task<WebhookDeliveriesResponse> DeliveriesAsync(HttpClient admin, string source, int? limit = null)
    {
        using var response = await admin.GetAsync($"/api/v1/webhooks/sources/{source}/deliveries" + (limit is null ? "" : $"?limit={limit}"));
        return await response.ReadAsync(MedicJson.Default.WebhookDeliveriesResponse);
    }

    public static HttpRequestMessage Request(string tenant, string source, byte[] body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Path(tenant, source)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    /// <summary>Signed with <c>X-Medic-Signature</c> over <c>TIMESTAMP.BODY</c>, stamped now (by <paramref name="clock"/> when the server runs on a fake one).</summary>
    public static HttpRequestMessage Signed(string tenant, string source, byte[] body, string secret, TimeProvider? clock = null)
    {
        var ts = (clock ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds();
        return Request(tenant, source, body, ("X-Medic-Timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("X-Medic-Signature", WebhookAuthenticator.Sign(secret, body, ts)));
    }

    public static HttpRequestMessage Bearer(string tenant, string source, byte[] body, string token) =>
        Request(tenant, source, body, ("Authorization", "Bearer " + token));

    public static HttpRequestMessage Grafana(string tenant, byte[] body, string secret)
    {
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var signed = Encoding.UTF8.GetBytes(ts + ":").Concat(body).ToArray();
        return Request(tenant, "grafana", body, ("X-Grafana-Alerting-Signature", Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed))),
            ("X-Grafana-Alerting-Signature-Timestamp", ts));
    }

    /// <summary>As PagerDuty signs: <c>X-PagerDuty-Signature: v1=HEX</c>, the hex HMAC-SHA256 of the raw body under the subscription's secret.</summary>
    public static HttpRequestMessage PagerDutySigned(string tenant, byte[] body, string secret) =>
        Request(tenant, "pagerduty", body, ("X-PagerDuty-Signature", "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body))));

    public static HttpRequestMessage BasicAuth(string tenant, string source, byte[] body, string username, string password) =>
        Request(tenant, source, body, ("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password))));

    public static HttpRequestMessage PagerDuty(string tenant, byte[] body, string secret) =>
        Request(tenant, "pagerduty", body, ("X-PagerDuty-Signature", "v1=" + new string('0', 64) + ",v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body))));
}
