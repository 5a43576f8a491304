using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Medic.Contracts;

namespace Medic.Cli;

/// <summary>The CLI's HTTP client: bearer token, JSON from Medic.Contracts, problem details turned into <see cref="CliException"/>.</summary>
internal sealed class ApiClient : IDisposable
{
    /// <summary>Responses are read leniently (a newer server may add fields); requests are written strictly.</summary>
    public static readonly MedicJson Json = new(new JsonSerializerOptions(MedicJson.Default.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip });

    private readonly HttpClient _http;

    public ApiClient(string server, string? token, TimeSpan? timeout = null)
    {
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw new CliException($"'{server}' is not an http:// or https:// URL", "pass the server's URL, e.g. --server http://127.0.0.1:7431");
        }

        Server = uri;
        _http = new HttpClient { BaseAddress = uri, Timeout = timeout ?? TimeSpan.FromSeconds(100) };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("medic-cli", MedicCli.Version));
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public Uri Server { get; }

    public Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, path), type, ct);

    public Task<T> SendAsync<TBody, T>(HttpMethod method, string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body, bodyType) }, type, ct);

    public async Task<T> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var response = await SendRawAsync(request, ct);
        return await response.Content.ReadFromJsonAsync(type, ct) ?? throw new CliException("the server sent an empty response", "run 'medic doctor'", ExitCodes.ServerError);
    }

    /// <summary>Sends and checks the status; the caller owns the response (for streaming).</summary>
    public async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken ct, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"cannot reach {Server}: {ex.Message}", "check the URL and that the server runs; 'medic doctor' checks the whole path", ExitCodes.Unreachable);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CliException($"{Server} did not answer within {_http.Timeout.TotalSeconds:0} s", "check the server's load and network; 'medic doctor' checks the whole path", ExitCodes.Unreachable);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ToExceptionAsync(response, ct);
        }
    }

    private static async Task<CliException> ToExceptionAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        ProblemResponse? problem = null;
        try
        {
            if (response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
            {
                problem = await response.Content.ReadFromJsonAsync(Json.ProblemResponse, ct);
            }
        }
        catch (JsonException)
        {
        }

        var cause = problem?.Detail ?? problem?.Title ?? $"the server answered {status} {response.ReasonPhrase}";
        string? fieldRemedy = null;
        if (problem?.Errors is { Count: > 0 } errors)
        {
            // The API names its fields; the user typed flags. The detail would repeat the field names.
            cause = string.Join("; ", errors.Select(e => ApiFields.Describe(e.Key, e.Value)));
            fieldRemedy = "correct that and run the command again; '--help' lists the flags";
        }

        var remedy = fieldRemedy ?? problem?.Remedy ?? status switch
        {
            401 => "run 'medic login --server URL' again",
            403 => "ask a tenant admin for a role that allows this",
            429 => "wait a minute and try again",
            _ => "run 'medic doctor'",
        };
        if (status == (int)HttpStatusCode.TooManyRequests && response.Headers.RetryAfter?.Delta is { } wait)
        {
            remedy = $"wait {wait.TotalSeconds:0} seconds and try again";
        }

        return new CliException(cause.TrimEnd('.'), remedy, ExitCodes.ForStatus(status));
    }

    public void Dispose() => _http.Dispose();
}
