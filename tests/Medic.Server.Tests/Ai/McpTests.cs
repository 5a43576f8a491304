using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Medic.Contracts;
using Role = Medic.Contracts.Role;
using Medic.Server.Ai.Mcp;
using Medic.Server.Tests.Audit;
using Medic.Server.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Medic.Server.Tests.Ai;

/// <summary>
/// Medic as an MCP server, driven by the real MCP C# client over Streamable HTTP: the tools a token's
/// role allows, calls checked and scoped to the token's tenant, proposals through the gate, every call
/// audited and kept in an <c>mcp</c> run bundle.
/// </summary>
public sealed class McpTests
{
    private static readonly string[] ReadingTools = ["diag", "forecasts", "list_recipes", "past_incidents", "recent_metrics", "server_facts", "show_recipe"];

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_viewer_gets_only_the_reading_tools_and_an_operator_also_the_acting_ones(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var viewer = await TokenAsync(server, "vera", Role.Viewer);
        var approver = await TokenAsync(server, "abe", Role.Approver);
        var operatorToken = await TokenAsync(server, "otto", Role.Operator);

        foreach (var token in new[] { viewer, approver })
        {
            await using var client = await ConnectAsync(server, token);
            var tools = await client.ListToolsAsync();
            tools.Select(t => t.Name).Order(StringComparer.Ordinal).ShouldBe(ReadingTools);
            tools.ShouldAllBe(t => t.ProtocolTool.Annotations!.ReadOnlyHint == true);

            var diag = tools.Single(t => t.Name == "diag").JsonSchema;
            diag.GetProperty("additionalProperties").GetBoolean().ShouldBeFalse();
            diag.GetProperty("required").EnumerateArray().Select(e => e.GetString()).ShouldBe(["verb"]);
            diag.GetProperty("properties").GetProperty("verb").GetProperty("enum").EnumerateArray().Select(e => e.GetString()).ShouldContain("service-status");

            // Not offered, so not callable: the same answer as for a name that does not exist.
            var refused = await client.CallToolAsync("propose_remediation", new Dictionary<string, object?> { ["recipe"] = "restart-service", ["rationale"] = "x", ["incident"] = "inc_x" });
            ErrorCode(refused).ShouldBe("tool.not_found");
        }

        foreach (var token in new[] { operatorToken, server.AdminToken })
        {
            await using var client = await ConnectAsync(server, token);
            var tools = await client.ListToolsAsync();
            tools.Select(t => t.Name).Order(StringComparer.Ordinal).ShouldBe([.. ReadingTools.Concat(["add_note", "escalate", "propose_remediation"]).Order(StringComparer.Ordinal)]);
            tools.Single(t => t.Name == "propose_remediation").ProtocolTool.Annotations!.ReadOnlyHint.ShouldBe(false);
            tools.Single(t => t.Name == "propose_remediation").JsonSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()).ShouldBe(["recipe", "rationale"]);
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_operators_client_diagnoses_through_a_real_agent_and_its_proposal_waits_for_a_person(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var agent = await McpRealAgent.StartAsync(server, "mcp-node");
        var token = await TokenAsync(server, "otto", Role.Operator);
        await using var client = await ConnectAsync(server, token);

        var system = await client.CallToolAsync("diag", new Dictionary<string, object?> { ["verb"] = "system", ["server"] = "mcp-node" });
        ErrorCode(system).ShouldBeNull(Text(system));
        var diag = JsonDocument.Parse(Text(system)).RootElement;
        (diag.GetProperty("server").GetString(), diag.GetProperty("verb").GetString(), diag.GetProperty("exit_code").GetInt32()).ShouldBe(("mcp-node", "system", 0));
        diag.GetProperty("output").GetString()!.ShouldContain(File.ReadAllText("/proc/sys/kernel/osrelease").Trim());

        var facts = await client.CallToolAsync("server_facts", new Dictionary<string, object?> { ["server"] = "mcp-node" });
        ErrorCode(facts).ShouldBeNull(Text(facts));
        JsonDocument.Parse(Text(facts)).RootElement.GetProperty("name").GetString().ShouldBe("mcp-node");

        var recipes = await client.CallToolAsync("list_recipes", new Dictionary<string, object?>());
        ErrorCode(recipes).ShouldBeNull(Text(recipes));
        Text(recipes).ShouldContain("restart-service");

        var incident = await OpenIncidentAsync(server, "mcp-node");
        var proposed = await client.CallToolAsync("propose_remediation", new Dictionary<string, object?>
        {
            ["recipe"] = "restart-service",
            ["params"] = new Dictionary<string, string> { ["unit"] = "nginx.service" },
            ["rationale"] = "service-status shows nginx failed after its config changed",
            ["incident"] = incident,
        });
        ErrorCode(proposed).ShouldBeNull(Text(proposed));
        var answer = JsonDocument.Parse(Text(proposed)).RootElement;
        (answer.GetProperty("gate").GetString(), answer.GetProperty("status").GetString()).ShouldBe(("needs_approval", "awaiting_approval"));

        // Low risk, but a person approves every MCP proposal: it waits, and nothing ran.
        await Task.Delay(1000);
        using (var list = await server.Admin.GetAsync($"/api/v1/incidents/{incident}/remediations"))
        {
            var remediation = (await list.ReadAsync(MedicJson.Default.IReadOnlyListRemediationResponse)).ShouldHaveSingleItem();
            (remediation.Id, remediation.Runbook, remediation.Status.ToText(), remediation.Gate, remediation.ProposedBy, remediation.Trust, remediation.RunId)
                .ShouldBe((answer.GetProperty("remediation").GetString()!, "restart-service", "awaiting_approval", "needs_approval", "mcp:otto", "supervised", (string?)null));
            remediation.Params["unit"].ShouldBe("nginx.service");
        }

        using (var approvals = await server.Admin.GetAsync($"/api/v1/approvals?incident={incident}"))
        {
            var approval = (await approvals.ReadAsync(MedicJson.Default.IReadOnlyListApprovalResponse)).ShouldHaveSingleItem();
            (approval.Status.ToText(), approval.RequestedBy).ShouldBe(("pending", "mcp:otto"));
        }

        agent.Output.ShouldNotContain("restart", Case.Insensitive);

        var node = await NodeIdAsync(server, "mcp-node");
        var audit = await McpAuditAsync(server.Admin);
        audit.Select(e => (e.Actor, e.Target, e.Outcome, e.Details["tool"], e.Details["outcome"])).ShouldBe(
        [
            ("user:otto", "server:" + node, "success", "diag", "ok"),
            ("user:otto", "server:" + node, "success", "server_facts", "ok"),
            ("user:otto", "mcp", "success", "list_recipes", "ok"),
            ("user:otto", "incident:" + incident, "success", "propose_remediation", "ok"),
        ]);
        audit[3].Details["argument_keys"].ShouldBe("incident,params,rationale,recipe");
        audit[3].Details["remediation"].ShouldBe(answer.GetProperty("remediation").GetString());
        audit.SelectMany(e => e.Details.Values).ShouldNotContain(v => v.Contains("nginx", StringComparison.Ordinal), "argument values stay out of the audit details");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Unknown_tools_bad_arguments_and_another_tenants_server_or_incident_are_refused_and_nothing_is_created(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var web1 = await WireAgent.EnrollAsync(server, "web-1");
        var incident = await OpenIncidentAsync(server, "web-1");
        using (var create = await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"globex","admin_username":"globex-admin","admin_password":"globex-admin-password"}""")))
        {
            create.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var globexToken = await server.LogInAsync("globex-admin", "globex-admin-password", "globex");
        await using var client = await ConnectAsync(server, globexToken);

        foreach (var name in new[] { "approve", "shell", "exec", "run_command" })
        {
            var call = await client.CallToolAsync(name, new Dictionary<string, object?> { ["command"] = "rm -rf /" });
            ErrorCode(call).ShouldBe("tool.not_found", name);
            Text(call).ShouldContain("propose_remediation");
        }

        var badVerb = await client.CallToolAsync("diag", new Dictionary<string, object?> { ["verb"] = "rm -rf /", ["server"] = "web-1" });
        ErrorCode(badVerb).ShouldBe("tool.input_invalid");
        var extra = await client.CallToolAsync("server_facts", new Dictionary<string, object?> { ["server"] = "web-1", ["command"] = "id" });
        ErrorCode(extra).ShouldBe("tool.input_invalid");
        Text(extra).ShouldContain("unknown argument 'command'");
        var missing = await client.CallToolAsync("propose_remediation", new Dictionary<string, object?> { ["recipe"] = "restart-service", ["incident"] = incident });
        ErrorCode(missing).ShouldBe("tool.input_invalid");

        foreach (var named in new[] { "web-1", web1.NodeId })
        {
            var facts = await client.CallToolAsync("server_facts", new Dictionary<string, object?> { ["server"] = named });
            ErrorCode(facts).ShouldBe("tool.input_invalid");
            Text(facts).ShouldContain("no server");
        }

        var proposal = await client.CallToolAsync("propose_remediation", new Dictionary<string, object?>
        {
            ["recipe"] = "restart-service", ["params"] = new Dictionary<string, string> { ["unit"] = "nginx" }, ["rationale"] = "r", ["incident"] = incident,
        });
        ErrorCode(proposal).ShouldBe("tool.input_invalid");
        Text(proposal).ShouldContain("no incident");
        var note = await client.CallToolAsync("add_note", new Dictionary<string, object?> { ["text"] = "planted", ["incident"] = incident });
        ErrorCode(note).ShouldBe("tool.input_invalid");

        using (var list = await server.Admin.GetAsync($"/api/v1/incidents/{incident}/remediations"))
        {
            (await list.ReadAsync(MedicJson.Default.IReadOnlyListRemediationResponse)).ShouldBeEmpty();
        }

        using (var detail = await server.Admin.GetAsync($"/api/v1/incidents/{incident}"))
        {
            (await detail.ReadAsync(MedicJson.Default.IncidentDetailResponse)).Timeline.ShouldNotContain(e => e.Message.Contains("planted", StringComparison.Ordinal));
        }

        // Every refusal is in the caller's tenant's audit log, none in the other's.
        var globexAudit = await McpAuditAsync(server.Client(globexToken));
        globexAudit.Count.ShouldBe(11);
        globexAudit.Take(4).ShouldAllBe(e => e.Outcome == "rejected" && e.Details["outcome"] == "tool.not_found" && e.Target == "mcp");
        globexAudit[^2].Target.ShouldBe("incident:" + incident);
        globexAudit.ShouldAllBe(e => e.Actor == "user:globex-admin");
        (await McpAuditAsync(server.Admin)).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Every_twentieth_call_saves_the_sessions_bundle_as_an_mcp_run(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var token = await TokenAsync(server, "vera", Role.Viewer);
        await using var client = await ConnectAsync(server, token);

        for (var i = 1; i < McpSessions.CallsPerBundle; i++)
        {
            var call = await client.CallToolAsync(i == 5 ? "shell" : "list_recipes", new Dictionary<string, object?>());
            ErrorCode(call).ShouldBe(i == 5 ? "tool.not_found" : null);
        }

        (await RunsAsync(server)).ShouldBeEmpty();
        await client.CallToolAsync("show_recipe", new Dictionary<string, object?> { ["name"] = "restart-service" });

        var run = (await RunsAsync(server)).ShouldHaveSingleItem();
        (run.Purpose, run.Actor, run.ToolCalls, run.Outcome).ShouldBe(("mcp", "user:vera", McpSessions.CallsPerBundle, "completed"));
        using (var response = await server.Admin.GetAsync($"/api/v1/ai/runs/{run.Id}"))
        {
            var bundle = await response.ReadAsync(MedicJson.Default.AiRunBundleResponse);
            bundle.Integrity.ShouldBe("ok");
            bundle.Tools.ShouldBe(ReadingTools);
            bundle.Steps.Select(s => s.Tool).ShouldBe([.. Enumerable.Range(1, McpSessions.CallsPerBundle).Select(i => i == 5 ? "shell" : i == 20 ? "show_recipe" : "list_recipes")]);
            bundle.Steps[4].Error.ShouldBe("tool.not_found");
            bundle.Steps[19].Arguments.ShouldBe("""{"name":"restart-service"}""");
            bundle.Steps[19].Result!.ShouldContain("restart-service");
        }

        (await McpAuditAsync(server.Admin)).ShouldAllBe(e => e.Details["ai_run"] == run.Id);

        // The next call starts the next bundle.
        await client.CallToolAsync("list_recipes", new Dictionary<string, object?>());
        (await McpAuditAsync(server.Admin))[^1].Details["ai_run"].ShouldNotBe(run.Id);
    }

    [Fact]
    public async Task Without_an_API_token_even_with_a_console_session_the_endpoint_answers_401()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        foreach (var bearer in new[] { null, "mdt_not-a-real-token" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
            {
                Content = Json.Raw("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_recipes","arguments":{}}}"""),
            };
            request.Headers.Accept.ParseAdd("application/json");
            request.Headers.Accept.ParseAdd("text/event-stream");
            if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            using var response = await server.Client().SendAsync(request);
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            response.Headers.WwwAuthenticate.ToString().ShouldBe("Bearer");
        }

        // A signed-in console session is not an API token either: no MCP client rides a browser's cookie.
        var console = await ConsoleSession.SignInAsync(server, MedicServer.AdminUsername, MedicServer.AdminPassword);
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = Json.Raw("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""") })
        {
            request.Headers.Accept.ParseAdd("application/json");
            request.Headers.Accept.ParseAdd("text/event-stream");
            using var response = await console.SendAsync(request);
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        await Should.ThrowAsync<Exception>(async () => await ConnectAsync(server, null));
        (await McpAuditAsync(server.Admin)).ShouldBeEmpty();
    }

    [Fact]
    public async Task MCP_calls_are_rate_limited_per_token()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var busy = server.Client(await TokenAsync(server, "vera", Role.Viewer));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= McpEndpoint.CallsPerMinute; i++)
        {
            using var response = await busy.PostAsync("/mcp", Json.Raw("{}"));
            statuses.Add(response.StatusCode);
        }

        statuses.Take(McpEndpoint.CallsPerMinute).ShouldNotContain(HttpStatusCode.TooManyRequests);
        statuses[^1].ShouldBe(HttpStatusCode.TooManyRequests);

        // Another token's client is not starved.
        await using var other = await ConnectAsync(server, server.AdminToken);
        ErrorCode(await other.CallToolAsync("list_recipes", new Dictionary<string, object?>())).ShouldBeNull();
    }

    [Fact]
    public async Task Medic_mcp_url_prints_a_configuration_a_client_connects_with()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var cli = new MedicCli(server, server.AdminToken);
        var run = await cli.RunAsync("mcp", "url", "--json");
        run.ExitCode.ShouldBe(0, run.ToString());
        var entry = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("mcpServers").GetProperty("medic");
        entry.GetProperty("type").GetString().ShouldBe("http");
        entry.GetProperty("headers").GetProperty("Authorization").GetString().ShouldBe("Bearer <TOKEN>");

        var token = await TokenAsync(server, "vera", Role.Viewer);
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(entry.GetProperty("url").GetString()!),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = entry.GetProperty("headers").GetProperty("Authorization").GetString()!.Replace("<TOKEN>", token, StringComparison.Ordinal) },
        });
        await using var client = await McpClient.CreateAsync(transport);
        (await client.ListToolsAsync()).Select(t => t.Name).Order(StringComparer.Ordinal).ShouldBe(ReadingTools);

        var text = await cli.RunAsync("mcp", "url");
        text.ExitCode.ShouldBe(0, text.ToString());
        text.Stdout.ShouldContain("MCP endpoint: " + entry.GetProperty("url").GetString());
        text.Stdout.ShouldContain("medic tokens create");
    }

    private static async Task<McpClient> ConnectAsync(MedicServer server, string? token)
    {
        var headers = new Dictionary<string, string>();
        if (token is not null) headers["Authorization"] = "Bearer " + token;
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(server.BaseAddress, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = headers,
        });
        return await McpClient.CreateAsync(transport);
    }

    private static async Task<string> TokenAsync(MedicServer server, string username, Role role)
    {
        var (_, password) = await server.AddUserAsync(server.Admin, username, role);
        return await server.LogInAsync(username, password);
    }

    private static string Text(CallToolResult result) => result.Content.OfType<TextContentBlock>().Single().Text;

    /// <summary>The structured error code of a failed call, or null when it succeeded.</summary>
    private static string? ErrorCode(CallToolResult result)
    {
        if (result.IsError != true) return null;
        return JsonDocument.Parse(Text(result)).RootElement.GetProperty("error").GetProperty("code").GetString();
    }

    private static async Task<string> OpenIncidentAsync(MedicServer server, string serverName)
    {
        using var response = await server.Admin.PostAsync("/api/v1/incidents",
            Json.Body(new CreateIncidentRequest($"nginx is down on {serverName}", "critical", serverName), MedicJson.Default.CreateIncidentRequest));
        var incident = await response.ReadAsync(MedicJson.Default.IncidentResponse, HttpStatusCode.Created);
        incident.Status.ToText().ShouldBe("open");
        return incident.Id;
    }

    private static async Task<string> NodeIdAsync(MedicServer server, string name)
    {
        using var response = await server.Admin.GetAsync("/api/v1/servers");
        return (await response.ReadAsync(MedicJson.Default.IReadOnlyListServerResponse)).Single(s => s.Name == name).Id;
    }

    /// <summary>The tenant's <c>mcp.tool_call</c> entries, oldest first.</summary>
    private static async Task<List<AuditEntry>> McpAuditAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/v1/audit?action=mcp.tool_call&limit=500");
        return [.. (await response.ReadAsync(MedicJson.Default.AuditPage)).Items.Reverse()];
    }

    private static async Task<IReadOnlyList<AiRunSummary>> RunsAsync(MedicServer server)
    {
        using var response = await server.Admin.GetAsync("/api/v1/ai/runs?purpose=mcp");
        return await response.ReadAsync(MedicJson.Default.IReadOnlyListAiRunSummary);
    }
}
