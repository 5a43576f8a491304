using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Medic.Contracts;

namespace Medic.Bench.Fanout;

/// <summary>The admin's side of the run: an API token, an enrollment token, executions started and read, the pipeline set up and incidents opened.</summary>
internal sealed class ControlPlaneApi : IDisposable
{
    // Responses read leniently, like the CLI; requests written strictly.
    private static readonly MedicJson Json = new(new JsonSerializerOptions(MedicJson.Default.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip });
    private readonly HttpClient _http;

    public ControlPlaneApi(Uri server)
    {
        _http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task LogInAsync(string password, CancellationToken ct)
    {
        var issued = await SendAsync(HttpMethod.Post, "/api/v1/auth/token", new TokenLoginRequest("admin", password, TokenName: "fanout bench", ExpiresIn: "1d"),
            Json.TokenLoginRequest, Json.TokenCreatedResponse, ct);
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", issued.Secret);
        Token = issued.Secret;
    }

    /// <summary>The API token, once logged in (for WebSocket feeds).</summary>
    public string? Token { get; private set; }

    public async Task<string> CreateEnrollmentTokenAsync(int uses, CancellationToken ct) =>
        (await SendAsync(HttpMethod.Post, "/api/v1/enrollment-tokens", new CreateEnrollmentTokenRequest(new Dictionary<string, string> { ["bench"] = "fanout" }, "6h", uses),
            Json.CreateEnrollmentTokenRequest, Json.EnrollmentTokenCreatedResponse, ct)).Secret;

    public Task<ServerResponse> AddServerAsync(CreateServerRequest request, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "/api/v1/servers", request, Json.CreateServerRequest, Json.ServerResponse, ct);

    public Task<ServerResponse> RemoveServerAsync(string id, CancellationToken ct) =>
        SendAsync<object?, ServerResponse>(HttpMethod.Delete, "/api/v1/servers/" + Uri.EscapeDataString(id), null, null, Json.ServerResponse, ct);

    public Task<ExecutionResponse> StartExecAsync(ExecRequest request, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "/api/v1/exec", request, Json.ExecRequest, Json.ExecutionResponse, ct);

    public Task<ExecutionResponse> GetExecutionAsync(string id, CancellationToken ct) =>
        SendAsync<object?, ExecutionResponse>(HttpMethod.Get, "/api/v1/executions/" + Uri.EscapeDataString(id), null, null, Json.ExecutionResponse, ct);

    public Task<IReadOnlyList<ServerResponse>> ListServersAsync(CancellationToken ct) =>
        SendAsync<object?, IReadOnlyList<ServerResponse>>(HttpMethod.Get, "/api/v1/servers", null, null, Json.IReadOnlyListServerResponse, ct);

    public Task<RunbookApplyResponse> ApplyRunbookAsync(string yaml, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "/api/v1/runbooks", new ApplyRunbookRequest(yaml), Json.ApplyRunbookRequest, Json.RunbookApplyResponse, ct);

    public Task<TriageRulesResponse> PutTriageRulesAsync(string yaml, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, "/api/v1/pipeline/triage-rules", new TriageRulesRequest(yaml), Json.TriageRulesRequest, Json.TriageRulesResponse, ct);

    public Task<PipelineSettingsResponse> PutPipelineSettingsAsync(PipelineSettingsRequest request, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, "/api/v1/pipeline/settings", request, Json.PipelineSettingsRequest, Json.PipelineSettingsResponse, ct);

    public Task<IncidentResponse> CreateIncidentAsync(CreateIncidentRequest request, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "/api/v1/incidents", request, Json.CreateIncidentRequest, Json.IncidentResponse, ct);

    public Task<IncidentDetailResponse> GetIncidentAsync(string id, CancellationToken ct) =>
        SendAsync<object?, IncidentDetailResponse>(HttpMethod.Get, "/api/v1/incidents/" + Uri.EscapeDataString(id), null, null, Json.IncidentDetailResponse, ct);

    public Task<NotificationChannelResponse> CreateNotificationChannelAsync(CreateNotificationChannelRequest request, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "/api/v1/notification-channels", request, Json.CreateNotificationChannelRequest, Json.NotificationChannelResponse, ct);

    public Task<NotificationRuleResponse> CreateNotificationRuleAsync(CreateNotificationRuleRequest request, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "/api/v1/notification-rules", request, Json.CreateNotificationRuleRequest, Json.NotificationRuleResponse, ct);

    /// <summary>Why the control plane marked servers offline, from its audit log (server.offline entries), with counts.</summary>
    public async Task<IReadOnlyDictionary<string, int>> OfflineReasonsAsync(CancellationToken ct)
    {
        var reasons = new Dictionary<string, int>(StringComparer.Ordinal);
        long? before = null;
        for (var page = 0; page < 100; page++)
        {
            var path = "/api/v1/audit?action=server.offline&limit=500" + (before is null ? "" : "&before=" + before.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var entries = await SendAsync<object?, AuditPage>(HttpMethod.Get, path, null, null, Json.AuditPage, ct);
            foreach (var e in entries.Items)
            {
                var reason = e.Details.GetValueOrDefault("reason") ?? "(none)";
                reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
            }

            if (entries.NextBefore is null) break;
            before = entries.NextBefore;
        }

        return reasons;
    }

    private async Task<T> SendAsync<TBody, T>(HttpMethod method, string path, TBody body, JsonTypeInfo<TBody>? bodyType, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (bodyType is not null) request.Content = JsonContent.Create(body, bodyType);
        using var response = await _http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            throw new BenchFailure($"{method} {path} answered {(int)response.StatusCode}: {Detail(text)}", "see the control plane's answer above; the bench sends what the CLI sends");
        }

        return await response.Content.ReadFromJsonAsync(type, ct) ?? throw new BenchFailure($"{method} {path} answered an empty body", "check the control plane's log");
    }

    private static string Detail(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? body : body;
        }
        catch (JsonException)
        {
            return body.Length > 300 ? body[..300] : body;
        }
    }

    public void Dispose() => _http.Dispose();
}
