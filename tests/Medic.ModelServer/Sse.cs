using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Medic.ModelServer;

/// <summary>Writes JSON answers and server-sent events, flushing each event so clients see them one by one.</summary>
internal static class Sse
{
    public static async Task WriteJsonAsync(HttpResponse response, int status, JsonNode body, CancellationToken ct)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.WriteAsync(body.ToJsonString(), Encoding.UTF8, ct);
    }

    public static void Start(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
    }

    public static Task DataAsync(HttpResponse response, JsonNode data, CancellationToken ct) => RawAsync(response, "data: " + data.ToJsonString() + "\n\n", ct);

    public static Task EventAsync(HttpResponse response, string name, JsonNode data, CancellationToken ct) =>
        RawAsync(response, "event: " + name + "\ndata: " + data.ToJsonString() + "\n\n", ct);

    public static async Task RawAsync(HttpResponse response, string text, CancellationToken ct)
    {
        await response.WriteAsync(text, Encoding.UTF8, ct);
        await response.Body.FlushAsync(ct);
    }

    /// <summary>Splits text into a few pieces, as a model streams it.</summary>
    public static IEnumerable<string> Pieces(string text, int size = 8)
    {
        for (var i = 0; i < text.Length; i += size)
        {
            yield return text.Substring(i, Math.Min(size, text.Length - i));
        }
    }
}
