using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Medic.Contracts;
using Medic.ModelServer;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Ai;

/// <summary>
/// AI set up the way a user does it, over the API: the key as a named secret, a model entry pointing
/// at the scripted model server, and an AI agent holding the diagnose role; plus the look-ups the
/// guardrail tests assert on (runs, bundles, timelines, remediations, what the model was sent).
/// </summary>
internal static class AiSetup
{
    public const string Key = "sk-scripted-0123456789abcdef-guardrails";
    public const string Agent = "doctor";

    public static readonly string[] Tools =
        ["diag", "list_recipes", "show_recipe", "server_facts", "propose_remediation", "escalate", "add_note"];

    public static async Task SecretAsync(MedicServer server, string name, string value, HttpClient? client = null)
    {
        using var response = await (client ?? server.Admin).PutAsync("/api/v1/secrets/" + name, Json.Body(new SetSecretRequest(value), SecretsJson.Default.SetSecretRequest));
        response.IsSuccessStatusCode.ShouldBeTrue(await response.Content.ReadAsStringAsync());
    }

    public static async Task ModelAsync(MedicServer server, string name, ScriptedModelServer model, string? fallback = null, bool anthropic = false, double? priceIn = 2.5, double? priceOut = 10)
    {
        var request = anthropic
            ? new AiModelRequest(name, AiProviders.Anthropic, "claude-test", model.AnthropicBaseUrl, "llm-key", fallback, 30, priceIn, priceOut)
            : new AiModelRequest(name, AiProviders.OpenAi, "gpt-test", model.OpenAiBaseUrl, "llm-key", fallback, 30, priceIn, priceOut);
        using var response = await server.Admin.PostAsync("/api/v1/ai/models", Json.Body(request, AiModelsJson.Default.AiModelRequest));
        await response.ReadAsync(AiModelsJson.Default.AiModelResponse, HttpStatusCode.Created);
    }

    public static async Task AgentAsync(MedicServer server, AiTrust trust = AiTrust.Autonomous, string name = Agent, IReadOnlyList<AiRole>? roles = null)
    {
        using var response = await server.Admin.PutAsync("/api/v1/ai/agents/" + name,
            Json.Body(new AiAgentRequest(trust, roles ?? [AiRole.Diagnose], Tools: Tools), AiAgentsJson.Default.AiAgentRequest));
        response.IsSuccessStatusCode.ShouldBeTrue(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The key secret, a <c>default</c> model entry on <paramref name="model"/>, and the diagnosing agent.</summary>
    public static async Task ConfigureAsync(MedicServer server, ScriptedModelServer model, bool anthropic = false)
    {
        await SecretAsync(server, "llm-key", Key);
        await ModelAsync(server, "default", model, anthropic: anthropic);
        await AgentAsync(server);
    }

    public static async Task<string> IncidentAsync(MedicServer server, string title, string? serverName, string? summary = null, HttpClient? client = null)
    {
        using var response = await (client ?? server.Admin).PostAsync("/api/v1/incidents",
            Json.Body(new CreateIncidentRequest(title, "critical", serverName, summary), MedicJson.Default.CreateIncidentRequest));
        return (await response.ReadAsync(MedicJson.Default.IncidentResponse, HttpStatusCode.Created)).Id;
    }

    public static async Task<IReadOnlyList<AiRunSummary>> RunsAsync(MedicServer server, string? incident = null, string? purpose = null)
    {
        var query = string.Join("&", new[] { incident is null ? null : "incident=" + incident, purpose is null ? null : "purpose=" + purpose }.Where(q => q is not null));
        using var response = await server.Admin.GetAsync("/api/v1/ai/runs" + (query.Length > 0 ? "?" + query : ""));
        return await response.ReadAsync(MedicJson.Default.IReadOnlyListAiRunSummary);
    }

    /// <summary>Waits (up to 60 s) for the incident's pipeline to finish its AI run and leave the working states.</summary>
    public static async Task<(AiRunSummary Run, IncidentDetailResponse Detail)> DiagnosedAsync(MedicServer server, string incident, string purpose = "diagnose")
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var runs = await RunsAsync(server, incident, purpose);
            var detail = await DetailAsync(server, incident);
            if (runs.Count > 0 && detail.Incident.Status is not (IncidentStatus.Open or IncidentStatus.Triaging or IncidentStatus.Diagnosing)
                && detail.Timeline.Any(e => e.Kind == "ai_run"))
            {
                return (runs.ShouldHaveSingleItem(), detail);
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, $"incident {incident} is {detail.Incident.Status.ToText()} with {runs.Count} runs; timeline: "
                + string.Join(" | ", detail.Timeline.Select(e => $"{e.Kind}: {e.Message}")));
            await Task.Delay(100);
        }
    }

    public static async Task<IncidentDetailResponse> DetailAsync(MedicServer server, string incident, HttpClient? client = null)
    {
        using var response = await (client ?? server.Admin).GetAsync($"/api/v1/incidents/{incident}");
        return await response.ReadAsync(MedicJson.Default.IncidentDetailResponse);
    }

    public static async Task<AiRunBundleResponse> BundleAsync(MedicServer server, string run)
    {
        using var response = await server.Admin.GetAsync($"/api/v1/ai/runs/{run}");
        return await response.ReadAsync(MedicJson.Default.AiRunBundleResponse);
    }

    public static async Task<IReadOnlyList<RemediationResponse>> RemediationsAsync(MedicServer server, string incident, HttpClient? client = null)
    {
        using var response = await (client ?? server.Admin).GetAsync($"/api/v1/incidents/{incident}/remediations");
        return await response.ReadAsync(MedicJson.Default.IReadOnlyListRemediationResponse);
    }

    public static async Task<IReadOnlyList<AuditEntry>> AuditAsync(MedicServer server, string action)
    {
        using var response = await server.Admin.GetAsync($"/api/v1/audit?action={action}&limit=500");
        return (await response.ReadAsync(MedicJson.Default.AuditPage)).Items;
    }

    /// <summary>The tool results a request carried, in order: each one's text (OpenAI <c>tool</c> messages, Anthropic <c>tool_result</c> blocks).</summary>
    public static IReadOnlyList<string> ToolResults(ModelRequest request)
    {
        var results = new List<string>();
        foreach (var message in request.Body?["messages"] as JsonArray ?? [])
        {
            if ((string?)message?["role"] == "tool") results.Add(Text(message["content"]));
            if (message?["content"] is JsonArray parts)
            {
                results.AddRange(parts.Where(p => (string?)p?["type"] == "tool_result").Select(p => Text(p!["content"])));
            }
        }

        return results;
    }

    /// <summary>The error code of a tool result the model received, or null when it succeeded.</summary>
    public static string? ErrorCode(string result)
    {
        try
        {
            using var doc = JsonDocument.Parse(result);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error) ? error.GetProperty("code").GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The user messages a request carried (text only), in order.</summary>
    public static IReadOnlyList<string> UserTexts(ModelRequest request) =>
        [.. (request.Body?["messages"] as JsonArray ?? []).Where(m => (string?)m?["role"] == "user").Select(m => Text(m!["content"]))];

    private static string Text(JsonNode? content) => content switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray parts => string.Join("\n", parts.Select(p => (string?)p?["text"] ?? (p?["content"] is JsonNode c ? Text(c) : null)).Where(t => t is not null)),
        null => "",
        _ => content.ToJsonString(),
    };
}
