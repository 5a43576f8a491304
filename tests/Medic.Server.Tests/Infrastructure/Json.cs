using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Medic.Server.Tests.Infrastructure;

/// <summary>Request bodies and response checks, in the wire format clients see.</summary>
public static class Json
{
    public static StringContent Body<T>(T value, JsonTypeInfo<T> type) =>
        new(JsonSerializer.Serialize(value, type), Encoding.UTF8, "application/json");

    /// <summary>A body sent exactly as written, for malformed or hand-made JSON.</summary>
    public static StringContent Raw(string json, string mediaType = "application/json") => new(json, Encoding.UTF8, mediaType);

    /// <summary>Asserts the status (showing the body when it differs) and reads the body as <typeparamref name="T"/>.</summary>
    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response, JsonTypeInfo<T> type, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered: {body}");
        return JsonSerializer.Deserialize(body, type) ?? throw new InvalidOperationException("the body is JSON null");
    }

    public static async Task<JsonObject> ReadObjectAsync(this HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered: {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    /// <summary>
    /// Asserts an RFC 9457 problem with the given status whose <c>detail</c> says what was wrong and
    /// whose <c>remedy</c> says what to do, and returns it for further checks.
    /// </summary>
    public static async Task<JsonObject> ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        var request = $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}";
        response.StatusCode.ShouldBe(expected, $"{request} answered: {body}");
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", $"{request} answered: {body}");
        var problem = JsonNode.Parse(body)!.AsObject();
        ((int?)problem["status"]).ShouldBe((int)expected, body);
        ((string?)problem["detail"]).ShouldNotBeNullOrWhiteSpace($"{request}: the problem has no detail: {body}");
        ((string?)problem["remedy"]).ShouldNotBeNullOrWhiteSpace($"{request}: the problem has no remedy: {body}");
        return problem;
    }

    public static string Detail(this JsonObject problem) => (string?)problem["detail"] ?? "";
}
