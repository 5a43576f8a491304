using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Medic.ModelServer;

/// <summary>
/// A real HTTP server on 127.0.0.1 speaking the OpenAI Chat Completions API (<c>POST /v1/chat/completions</c>,
/// <c>GET /v1/models</c>) and the Anthropic Messages API (<c>POST /v1/messages</c>), plain and streaming,
/// answering from a script: queued replies first, then <see cref="Responder"/>; with neither, a 500
/// "script exhausted". Every request is kept in <see cref="Requests"/> (credentials only as a hash prefix).
/// </summary>
public sealed class ScriptedModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Queue<ModelReply> _queue = new();
    private readonly List<ModelRequest> _requests = [];
    private readonly Lock _lock = new();
    private TimeSpan _pendingDelay;
    private int _sequence;

    private ScriptedModelServer(WebApplication app) => _app = app;

    /// <summary>http://127.0.0.1:PORT, without a trailing slash.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>The base URL an OpenAI client takes (it appends /chat/completions).</summary>
    public string OpenAiBaseUrl => BaseUrl + "/v1";

    /// <summary>The base URL an Anthropic client takes (it appends /v1/messages).</summary>
    public string AnthropicBaseUrl => BaseUrl;

    /// <summary>Answers a request when the queue is empty (scenario-driven use); null: the script is exhausted.</summary>
    public Func<ModelRequest, ModelReply>? Responder { get; set; }

    public IReadOnlyList<ModelRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Replies still queued.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    public static async Task<ScriptedModelServer> StartAsync(int port = 0, CancellationToken ct = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture));
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        var app = builder.Build();
        var server = new ScriptedModelServer(app);
        app.MapPost("/v1/chat/completions", http => server.AnswerAsync(http, ModelRequest.OpenAi));
        app.MapPost("/chat/completions", http => server.AnswerAsync(http, ModelRequest.OpenAi));
        app.MapPost("/v1/messages", http => server.AnswerAsync(http, ModelRequest.Anthropic));
        app.MapGet("/v1/models", http => Sse.WriteJsonAsync(http.Response, 200, new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(new JsonObject { ["id"] = "scripted", ["object"] = "model", ["created"] = 0, ["owned_by"] = "medic" }),
        }, http.RequestAborted));
        await app.StartAsync(ct);
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().TrimEnd('/');
        return server;
    }

    public void Enqueue(ModelReply reply)
    {
        lock (_lock)
        {
            _queue.Enqueue(_pendingDelay > TimeSpan.Zero ? reply with { Delay = reply.Delay + _pendingDelay } : reply);
            _pendingDelay = TimeSpan.Zero;
        }
    }

    public void ReplyText(string text) => Enqueue(ModelReply.ReplyText(text));

    public void ReplyToolCalls(params (string Name, object Args)[] calls) => Enqueue(ModelReply.ReplyToolCalls(calls));

    public void Fail(int status, string body) => Enqueue(ModelReply.Fail(status, body));

    /// <summary>The next enqueued reply waits this long before it is sent (a slow or hanging model).</summary>
    public void Delay(TimeSpan delay)
    {
        lock (_lock)
        {
            _pendingDelay += delay;
        }
    }

    private async Task AnswerAsync(HttpContext http, string api)
    {
        var ct = http.RequestAborted;
        string raw;
        using (var reader = new StreamReader(http.Request.Body, Encoding.UTF8))
        {
            raw = await reader.ReadToEndAsync(ct);
        }

        JsonNode? body = null;
        try
        {
            body = JsonNode.Parse(raw);
        }
        catch (JsonException)
        {
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? credential = null;
        foreach (var (name, value) in http.Request.Headers)
        {
            if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || name.Equals("x-api-key", StringComparison.OrdinalIgnoreCase))
            {
                var v = value.ToString();
                credential = v.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? v[7..] : v;
                headers[name] = "(redacted)";
                continue;
            }

            headers[name] = value.ToString();
        }

        var request = new ModelRequest(api, http.Request.Path, headers, credential is not null,
            credential is null ? null : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(credential)))[..12], raw, body);
        ModelReply? reply;
        string id;
        lock (_lock)
        {
            _requests.Add(request);
            reply = _queue.TryDequeue(out var queued) ? queued : null;
            id = (++_sequence).ToString(CultureInfo.InvariantCulture);
        }

        reply ??= Responder?.Invoke(request);
        try
        {
            if (reply?.Delay > TimeSpan.Zero) await Task.Delay(reply.Delay, ct);
            if (body is not JsonObject)
            {
                await WriteErrorAsync(http.Response, api, 400, "the request body is not a JSON object", ct);
                return;
            }

            if (reply is null)
            {
                await WriteErrorAsync(http.Response, api, 500, $"script exhausted: request {id} ({api} {http.Request.Path}) has no scripted reply", ct);
                return;
            }

            if (reply.Status is { } status)
            {
                var errorBody = reply.ErrorBody ?? "";
                if (errorBody.TrimStart().StartsWith('{'))
                {
                    http.Response.StatusCode = status;
                    http.Response.ContentType = "application/json";
                    await http.Response.WriteAsync(errorBody, ct);
                }
                else
                {
                    await WriteErrorAsync(http.Response, api, status, errorBody.Length == 0 ? "scripted failure" : errorBody, ct);
                }

                return;
            }

            var input = reply.InputTokens ?? Math.Max(1, raw.Length / 4);
            var output = reply.OutputTokens ?? 1 + ((reply.Text?.Length ?? 0) + reply.ToolCalls.Sum(c => c.Name.Length + c.ArgumentsJson.Length)) / 4;
            if (api == ModelRequest.OpenAi) await OpenAiWire.WriteAsync(http.Response, request, reply, id, input, output, ct);
            else await AnthropicWire.WriteAsync(http.Response, request, reply, id, input, output, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client gave up (its timeout): nothing to answer.
        }
    }

    private static Task WriteErrorAsync(HttpResponse response, string api, int status, string message, CancellationToken ct) =>
        Sse.WriteJsonAsync(response, status, api == ModelRequest.OpenAi ? OpenAiWire.Error(status, message) : AnthropicWire.Error(status, message), ct);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
