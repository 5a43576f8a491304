using System.Net.Http.Json;
using Medic.Contracts.Agent;

namespace Medic.Agent;

/// <summary><c>medic-agent enroll</c>: trade a one-time enrollment token for this node's credential.</summary>
public static class Enrollment
{
    public static async Task<AgentConfig> EnrollAsync(string server, string token, string name, IReadOnlyDictionary<string, string> tags, HostFacts? facts, CancellationToken ct)
    {
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw new AgentException($"'{server}' is not an http:// or https:// URL", "pass the control plane's URL, e.g. --server https://medic.example.com");
        }

        using var http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(30) };
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsJsonAsync("/agent/v1/enroll", new EnrollRequest(token, name, tags, facts), AgentJson.Default.EnrollRequest, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new AgentException($"cannot reach {server}: {ex.Message}", "check the URL and that the control plane runs");
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(ct);
                var (detail, remedy) = Problem(body);
                throw new AgentException($"enrollment refused: {detail ?? $"{(int)response.StatusCode} {response.ReasonPhrase}"}",
                    remedy ?? "ask an admin for a new token: medic enroll-token create");
            }

            var enrolled = await response.Content.ReadFromJsonAsync(AgentJson.Default.EnrollResponse, ct)
                ?? throw new AgentException("the control plane sent an empty answer", "check the control plane's log");
            return new AgentConfig
            {
                Server = server.TrimEnd('/'), NodeId = enrolled.NodeId, Name = enrolled.Name, Tenant = enrolled.TenantSlug,
                Credential = enrolled.Credential, SigningPublicKey = enrolled.SigningPublicKey,
            };
        }
    }

    private static (string? Detail, string? Remedy) Problem(string body)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            string? Text(string name) => doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null;
            return (Text("detail"), Text("remedy"));
        }
        catch (System.Text.Json.JsonException)
        {
            return (null, null);
        }
    }

    /// <summary>Parses <c>k=v,k2=v2</c>.</summary>
    public static Dictionary<string, string> ParseTags(string? text)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0)
            {
                throw new AgentException($"tag '{pair}' is not key=value", "write tags as --tags env=prod,role=web");
            }

            tags[parts[0]] = parts[1];
        }

        return tags;
    }
}
