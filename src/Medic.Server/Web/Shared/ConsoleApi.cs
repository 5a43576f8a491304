using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Medic.Contracts;
using Microsoft.Extensions.Options;
using Microsoft.JSInterop;

namespace Medic.Server.Web.Shared;

/// <summary>
/// State-changing console actions, sent from the browser to the control plane's own API with the
/// session cookie and its antiforgery token (<c>wwwroot/app.js</c>). The API applies the same
/// permissions, validation, audit entries and rate limits as for any caller: a console page can
/// hide a button, but only the API decides. One per circuit.
/// </summary>
internal sealed class ConsoleApi(IJSRuntime js, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
{
    private JsonSerializerOptions Options => json.Value.SerializerOptions;

    /// <summary>A read that must go through the API (e.g. a full audit verification it records); page reads otherwise use the stores.</summary>
    public Task<ApiOutcome> GetAsync(string path) => SendAsync("GET", path, null);

    public Task<ApiOutcome> PostAsync<TBody>(string path, TBody body) => SendAsync("POST", path, Serialize(body));

    public Task<ApiOutcome> PostAsync(string path) => SendAsync("POST", path, null);

    public Task<ApiOutcome> PutAsync<TBody>(string path, TBody body) => SendAsync("PUT", path, Serialize(body));

    public Task<ApiOutcome> PatchAsync<TBody>(string path, TBody body) => SendAsync("PATCH", path, Serialize(body));

    public Task<ApiOutcome> DeleteAsync(string path) => SendAsync("DELETE", path, null);

    /// <summary>The body as the API's own JSON (snake_case, source-generated), so the API reads it exactly as from the CLI.</summary>
    private string Serialize<TBody>(TBody body) => JsonSerializer.Serialize(body, (JsonTypeInfo<TBody>)Options.GetTypeInfo(typeof(TBody)));

    private async Task<ApiOutcome> SendAsync(string method, string path, string? body)
    {
        if (!path.StartsWith("/api/", StringComparison.Ordinal)) throw new ArgumentException("Console actions call the API under /api/.", nameof(path));
        try
        {
            var reply = await js.InvokeAsync<JsReply>("medic.call", method, path, body);
            return new ApiOutcome(reply.Status, reply.Body, Options);
        }
        catch (JSException ex)
        {
            return new ApiOutcome(0, JsonSerializer.Serialize(new ProblemResponse { Title = "The browser could not reach the server", Detail = ex.Message }, Options), Options);
        }
    }

    private sealed record JsReply(int Status, string Body);
}

/// <summary>An API answer as the console shows it: success, or the problem's title, detail and remedy.</summary>
internal sealed class ApiOutcome(int status, string body, JsonSerializerOptions options)
{
    public int Status { get; } = status;

    public bool Succeeded => Status is >= 200 and < 300;

    public string Body { get; } = body;

    /// <summary>The answer's body as <typeparamref name="T"/>; only for a success with a body.</summary>
    public T Read<T>() => JsonSerializer.Deserialize(Body, (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)))
        ?? throw new InvalidOperationException("The API answered with an empty body.");

    /// <summary>One line for the page: the problem's detail and remedy, or the status when the body is not a problem.</summary>
    public string Message => MessageExcept([]);

    /// <summary>
    /// A validation problem's answers by field (<c>name</c>, <c>definition.url</c>), for a form that
    /// shows each under its input; empty for any other answer.
    /// </summary>
    public IReadOnlyDictionary<string, string[]> FieldErrors => Problem()?.Errors is { Count: > 0 } errors ? errors : EmptyErrors;

    /// <summary>
    /// <see cref="Message"/> without the answers for <paramref name="shownFields"/>, which the form
    /// shows under their inputs; an answer for any other field stays in the line, so none is lost.
    /// </summary>
    public string MessageExcept(IReadOnlyCollection<string> shownFields)
    {
        if (Succeeded) return "";
        var p = Problem();
        if (p is null) return $"The server answered {Status}.";
        var text = p.Detail ?? p.Title ?? $"The server answered {Status}.";
        if (p.Errors?.Where(e => !shownFields.Contains(e.Key)).ToList() is { Count: > 0 } errors) text += " " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"));
        return p.Remedy is { Length: > 0 } remedy ? $"{text} ({remedy})" : text;
    }

    private static readonly Dictionary<string, string[]> EmptyErrors = [];

    private ProblemResponse? Problem()
    {
        if (Succeeded) return null;
        try
        {
            return JsonSerializer.Deserialize(Body, (JsonTypeInfo<ProblemResponse>)options.GetTypeInfo(typeof(ProblemResponse)));
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
