using System.Net;
using System.Text;
using Medic.Contracts;
using Medic.Server.Ai.Ask;
using Medic.Server.Ai.Runs;
using Medic.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Medic.Server.Tests.Tenancy;

/// <summary>
/// Walks every endpoint whose route has a parameter, as the admin of one tenant (globex) with the
/// ids of another (acme), and expects to learn and change nothing: 404, or 403 where the endpoint is
/// for superadmins only.
/// </summary>
public sealed class TenantIsolationTests
{
    /// <summary>What tenant one (acme) holds: the ids another tenant's admin will try.</summary>
    public sealed record TenantOne(
        string TenantId,
        string Slug,
        string AdminId,
        string AdminUsername,
        string UserId,
        string Username,
        string AdminTokenId,
        string UserTokenId,
        string RevokedTokenId,
        string EnrollmentTokenId,
        string ServerId,
        string ServerName,
        string ExecutionId,
        string IncidentId,
        string CheckId,
        string AgentlessServerId,
        string AgentlessServerName,
        string MonitorId,
        string ChannelId,
        string RuleId,
        string RunbookRunId,
        string ApprovalId,
        string ChangeWindowId)
    {
        public string SilenceId { get; init; } = "";

        public string AiRunId { get; init; } = "";

        public string AskSessionId { get; init; } = "";
    }

    /// <summary>
    /// How to probe one endpoint: the route values to try (each a complete set, all belonging to
    /// tenant one), a body when the endpoint reads one, and the answers that show isolation.
    /// <see cref="NotTenantData"/> marks an endpoint whose parameter names no tenant's data; it is
    /// called once with <see cref="Values"/> and must simply not fail.
    /// </summary>
    public sealed record Probe(
        Func<TenantOne, IEnumerable<Dictionary<string, string>>> Values,
        string? Body = null,
        HttpStatusCode[]? Isolated = null,
        string? NotTenantData = null)
    {
        public HttpStatusCode[] Expected => Isolated ?? [HttpStatusCode.NotFound];
    }

    private static Dictionary<string, string> Route(string name, string value) => new() { [name] = value };

    // ======================================================================================
    // THE PROBE TABLE. Every endpoint with a route parameter must have a row here, keyed by
    // "METHOD route-pattern". When a new endpoint appears, the test below fails and names it:
    // add a row that fills its parameters with tenant one's ids (and a valid body if it reads one).
    // ======================================================================================
    private static readonly Dictionary<string, Probe> Probes = new(StringComparer.Ordinal)
    {
        ["GET /api/v1/users/{id}"] = new(t => [Route("id", t.UserId), Route("id", t.Username), Route("id", t.AdminId)]),
        ["PUT /api/v1/users/{id}/role"] = new(t => [Route("id", t.UserId), Route("id", t.Username), Route("id", t.AdminId)], Body: """{"role":"admin"}"""),
        ["POST /api/v1/users/{id}/disable"] = new(t => [Route("id", t.UserId), Route("id", t.Username), Route("id", t.AdminId)]),
        ["POST /api/v1/users/{id}/enable"] = new(t => [Route("id", t.UserId), Route("id", t.Username)]),
        ["POST /api/v1/users/{id}/password"] = new(t => [Route("id", t.UserId), Route("id", t.Username), Route("id", t.AdminId)], Body: """{"password":"taken-over-password"}"""),
        ["GET /api/v1/tokens/{id}"] = new(t => [Route("id", t.AdminTokenId), Route("id", t.UserTokenId), Route("id", t.RevokedTokenId)]),
        ["DELETE /api/v1/tokens/{id}"] = new(t => [Route("id", t.AdminTokenId), Route("id", t.UserTokenId)]),
        ["DELETE /api/v1/enrollment-tokens/{id}"] = new(t => [Route("id", t.EnrollmentTokenId)]),
        ["GET /api/v1/servers/{id}"] = new(t => [Route("id", t.ServerId), Route("id", t.ServerName), Route("id", t.AgentlessServerId), Route("id", t.AgentlessServerName)]),
        ["GET /api/v1/servers/{id}/metrics"] = new(t => [Route("id", t.ServerId), Route("id", t.ServerName), Route("id", t.AgentlessServerId), Route("id", t.AgentlessServerName)]),
        ["PUT /api/v1/servers/{id}/tags"] = new(t => [Route("id", t.ServerId), Route("id", t.ServerName), Route("id", t.AgentlessServerId), Route("id", t.AgentlessServerName)], Body: """{"tags":{"owner":"globex"}}"""),
        ["POST /api/v1/servers/{id}/drain"] = new(t => [Route("id", t.ServerId), Route("id", t.ServerName), Route("id", t.AgentlessServerId), Route("id", t.AgentlessServerName)]),
        ["POST /api/v1/servers/{id}/undrain"] = new(t => [Route("id", t.ServerId), Route("id", t.ServerName), Route("id", t.AgentlessServerId), Route("id", t.AgentlessServerName)]),
        ["DELETE /api/v1/servers/{id}"] = new(t => [Route("id", t.ServerId), Route("id", t.ServerName), Route("id", t.AgentlessServerId), Route("id", t.AgentlessServerName)]),
        ["POST /api/v1/servers/{id}/diag"] = new(t => [Route("id", t.ServerId), Route("id", t.ServerName), Route("id", t.AgentlessServerId), Route("id", t.AgentlessServerName)], Body: """{"verb":"disk"}"""),
        ["POST /api/v1/servers/{id}/service"] = new(t => [Route("id", t.ServerId), Route("id", t.ServerName)], Body: """{"unit":"nginx","action":"restart"}"""),
        ["GET /api/v1/executions/{id}"] = new(t => [Route("id", t.ExecutionId)]),
        ["ANY /ws/executions/{id}"] = new(t => [Route("id", t.ExecutionId)]),
        ["GET /api/v1/incidents/{id}"] = new(t => [Route("id", t.IncidentId)]),
        ["POST /api/v1/incidents/{id}/acknowledge"] = new(t => [Route("id", t.IncidentId)], Body: "{}"),
        ["POST /api/v1/incidents/{id}/comments"] = new(t => [Route("id", t.IncidentId)], Body: """{"text":"from globex"}"""),
        ["POST /api/v1/incidents/{id}/resolve"] = new(t => [Route("id", t.IncidentId)], Body: """{"comment":"closed by globex"}"""),
        ["GET /api/v1/checks/{id}"] = new(t => [Route("id", t.CheckId), Route("id", "acme-db")]),
        ["POST /api/v1/checks/{id}/run"] = new(t => [Route("id", t.CheckId), Route("id", "acme-db")]),
        ["DELETE /api/v1/checks/{id}"] = new(t => [Route("id", t.CheckId), Route("id", "acme-db")]),
        ["GET /api/v1/monitors/{id}"] = new(t => [Route("id", t.MonitorId), Route("id", "acme-web")]),
        ["DELETE /api/v1/monitors/{id}"] = new(t => [Route("id", t.MonitorId), Route("id", "acme-web")]),
        // The admin's own API token is not a webhook credential, and another tenant's never is.
        ["POST /api/v1/webhooks/alerts/{tenant_slug}/{source}"] = new(t => [.. new[] { "alertmanager", "grafana", "datadog", "pagerduty", "generic" }.Select(source => new Dictionary<string, string> { ["tenant_slug"] = t.Slug, ["source"] = source })],
            Body: """{"alerts":[{"fingerprint":"takeover","status":"firing","title":"from globex"}]}""", Isolated: [HttpStatusCode.Unauthorized]),
        // Mapped source names are per tenant: globex saving "acme-map" makes globex's own mapping, and cannot remove another's.
        ["PUT /api/v1/webhooks/mappings/{name}"] = new(t => [Route("name", "acme-map")], Body: """{"title":"$.title"}""", Isolated: [HttpStatusCode.OK]),
        ["DELETE /api/v1/webhooks/mappings/{name}"] = new(t => [Route("name", "acme-other-map")]),
        // Alert classification rules are per tenant too: globex saving "acme-type" makes its own rule, and cannot remove another's.
        ["PUT /api/v1/webhooks/types/{name}"] = new(t => [Route("name", "acme-type")], Body: """{"type":"disk_full","alertname":"AcmeDiskFull"}""", Isolated: [HttpStatusCode.OK]),
        ["DELETE /api/v1/webhooks/types/{name}"] = new(t => [Route("name", "acme-other-type")]),
        // Secret names are per tenant: globex setting "acme-db-password" makes its own secret, and cannot see or remove acme's.
        ["GET /api/v1/secrets/{name}"] = new(t => [Route("name", "acme-db-password")]),
        ["PUT /api/v1/secrets/{name}"] = new(t => [Route("name", "acme-db-password")], Body: """{"value":"globex-value-0123"}""", Isolated: [HttpStatusCode.Created, HttpStatusCode.OK]),
        ["DELETE /api/v1/secrets/{name}"] = new(t => [Route("name", "acme-api-key")]),
        ["DELETE /api/v1/notification-channels/{id}"] = new(t => [Route("id", t.ChannelId), Route("id", "acme-slack")]),
        ["POST /api/v1/notification-channels/{id}/test"] = new(t => [Route("id", t.ChannelId), Route("id", "acme-slack")]),
        ["DELETE /api/v1/notification-rules/{id}"] = new(t => [Route("id", t.RuleId), Route("id", "acme-pages")]),
        ["GET /api/v1/runbooks/{name}"] = new(t => [Route("name", "acme-fix")]),
        ["GET /api/v1/runbooks/{name}/diff"] = new(t => [Route("name", "acme-fix")]),
        ["POST /api/v1/runbooks/{name}/runs"] = new(t => [Route("name", "acme-fix")], Body: """{"selector":{"all":true},"confirmed":true}"""),
        ["GET /api/v1/runbook-runs/{id}"] = new(t => [Route("id", t.RunbookRunId)]),
        ["ANY /ws/runbook-runs/{id}"] = new(t => [Route("id", t.RunbookRunId)]),
        ["GET /api/v1/approvals/{id}"] = new(t => [Route("id", t.ApprovalId)]),
        ["POST /api/v1/approvals/{id}/approve"] = new(t => [Route("id", t.ApprovalId)], Body: """{"comment":"looks fine"}"""),
        ["POST /api/v1/approvals/{id}/reject"] = new(t => [Route("id", t.ApprovalId)], Body: """{"reason":"not now"}"""),
        ["GET /api/v1/incidents/{id}/remediations"] = new(t => [Route("id", t.IncidentId)]),
        ["POST /api/v1/incidents/{id}/remediations"] = new(t => [Route("id", t.IncidentId)], Body: """{"runbook":"acme-fix"}"""),
        ["GET /api/v1/incidents/{id}/report"] = new(t => [Route("id", t.IncidentId)]),
        ["DELETE /api/v1/change-windows/{id}"] = new(t => [Route("id", t.ChangeWindowId)]),
        ["GET /api/v1/silences/{id}"] = new(t => [Route("id", t.SilenceId)]),
        // AI agents and skills are per tenant: globex saving "acme-triage" makes its own agent (holding triage in globex only), and cannot read or remove acme's.
        ["GET /api/v1/ai/agents/{name}"] = new(t => [Route("name", "acme-triage")]),
        ["PUT /api/v1/ai/agents/{name}"] = new(t => [Route("name", "acme-triage")], Body: """{"roles":["triage"]}""", Isolated: [HttpStatusCode.Created, HttpStatusCode.OK]),
        ["DELETE /api/v1/ai/agents/{name}"] = new(t => [Route("name", "acme-diagnoser")]),
        ["GET /api/v1/ai/skills/{name}"] = new(t => [Route("name", "acme-skill")]),
        ["PUT /api/v1/ai/skills/{name}"] = new(t => [Route("name", "acme-skill")], Body: """{"markdown":"---\nname: acme-skill\ndescription: globex's\nwhen: never\n---\nglobex text\n"}""", Isolated: [HttpStatusCode.OK]),
        ["DELETE /api/v1/ai/skills/{name}"] = new(t => [Route("name", "acme-other-skill")]),
        ["GET /api/v1/ai/tools/{name}"] = new(t => [Route("name", "acme_tool")]),
        ["PUT /api/v1/ai/tools/{name}"] = new(t => [Route("name", "acme_tool")],
            Body: """{"description":"globex's","kind":"shell_command","program":"/usr/bin/uptime"}""", Isolated: [HttpStatusCode.Created, HttpStatusCode.OK]),
        ["DELETE /api/v1/ai/tools/{name}"] = new(t => [Route("name", "acme_other_tool")]),
        ["GET /api/v1/ai/runs/{id}"] = new(t => [Route("id", t.AiRunId)]),
        ["GET /api/v1/ai/sessions/{id}"] = new(t => [Route("id", t.AskSessionId)]),
        ["POST /api/v1/silences/{id}/expire"] = new(t => [Route("id", t.SilenceId)], Body: "{}"),
        // A source names a sender, not a tenant's data: the caller sets, clears and reads its own tenant's (TenantStateAsync shows tenant one's stay as they were).
        ["PUT /api/v1/webhooks/sources/{source}/secret"] = new(_ => [Route("source", "pagerduty")], Body: """{"secret":"globex-pagerduty-secret-0123456789"}""", Isolated: [HttpStatusCode.OK],
            NotTenantData: "the source is a sender's name; the caller's own tenant's secret is set"),
        ["DELETE /api/v1/webhooks/sources/{source}/secret"] = new(_ => [Route("source", "pagerduty")], Isolated: [HttpStatusCode.NoContent, HttpStatusCode.NotFound],
            NotTenantData: "the source is a sender's name; the caller's own tenant's secret is cleared"),
        ["PUT /api/v1/webhooks/sources/{source}/basic-auth"] = new(_ => [Route("source", "alertmanager")], Body: """{"username":"globex","password":"globex-alertmanager-password"}""", Isolated: [HttpStatusCode.OK],
            NotTenantData: "the source is a sender's name; the caller's own tenant's basic auth is set"),
        ["DELETE /api/v1/webhooks/sources/{source}/basic-auth"] = new(_ => [Route("source", "alertmanager")], Isolated: [HttpStatusCode.NoContent, HttpStatusCode.NotFound],
            NotTenantData: "the source is a sender's name; the caller's own tenant's basic auth is cleared"),
        ["GET /api/v1/webhooks/sources/{source}/deliveries"] = new(_ => [.. new[] { "alertmanager", "grafana", "datadog", "pagerduty", "generic" }.Select(source => Route("source", source))],
            Isolated: [HttpStatusCode.OK]),
        // Model entries are per tenant by name: globex has no "acme-model" to remove or test.
        ["DELETE /api/v1/ai/models/{name}"] = new(t => [Route("name", "acme-model")]),
        ["POST /api/v1/ai/models/{name}/test"] = new(t => [Route("name", "acme-model")]),
        // Console pages (Blazor): another tenant's id renders the not-found page with 404 (ConsoleApprovalPagesTests signs in to the console as well).
        ["GET /approvals/{id}"] = new(t => [Route("id", t.ApprovalId)]),
        ["GET /incidents/{id}"] = new(t => [Route("id", t.IncidentId)]),
        ["GET /servers/{Id}"] = new(t => [Route("Id", t.ServerId), Route("Id", t.ServerName), Route("Id", t.AgentlessServerId), Route("Id", t.AgentlessServerName)]),
        ["GET /runbooks/{Name}"] = new(t => [Route("Name", "acme-fix")]),
        ["GET /runbooks/runs/{Id}"] = new(t => [Route("Id", t.RunbookRunId)]),
        ["GET /ai/runs/{Id}"] = new(t => [Route("Id", t.AiRunId)]),
        // Blazor takes posts to its pages for forms; this probe's JSON body names no form, and nothing is read or changed.
        ["POST /approvals/{id}"] = new(t => [Route("id", t.ApprovalId)], Body: """{"decision":"approve"}""",
            Isolated: [HttpStatusCode.NotFound, HttpStatusCode.BadRequest, HttpStatusCode.UnsupportedMediaType]),
        ["POST /incidents/{id}"] = new(t => [Route("id", t.IncidentId)], Body: """{"comment":"mine now"}""",
            Isolated: [HttpStatusCode.NotFound, HttpStatusCode.BadRequest, HttpStatusCode.UnsupportedMediaType]),
        ["POST /servers/{Id}"] = new(t => [Route("Id", t.ServerId)], Body: """{"run":true}""",
            Isolated: [HttpStatusCode.NotFound, HttpStatusCode.BadRequest, HttpStatusCode.UnsupportedMediaType]),
        ["POST /runbooks/{Name}"] = new(t => [Route("Name", "acme-fix")], Body: """{"run":true}""",
            Isolated: [HttpStatusCode.NotFound, HttpStatusCode.BadRequest, HttpStatusCode.UnsupportedMediaType]),
        ["POST /runbooks/runs/{Id}"] = new(t => [Route("Id", t.RunbookRunId)], Body: """{"run":true}""",
            Isolated: [HttpStatusCode.NotFound, HttpStatusCode.BadRequest, HttpStatusCode.UnsupportedMediaType]),
        ["POST /ai/runs/{Id}"] = new(t => [Route("Id", t.AiRunId)], Body: """{"run":true}""",
            Isolated: [HttpStatusCode.NotFound, HttpStatusCode.BadRequest, HttpStatusCode.UnsupportedMediaType]),
        ["GET /api/v1/tenants/{slug}"] = new(t => [Route("slug", t.Slug)], Isolated: [HttpStatusCode.Forbidden, HttpStatusCode.NotFound]),
        ["GET /openapi/{documentName}.json"] = new(_ => [Route("documentName", "v1")], Isolated: [HttpStatusCode.OK],
            NotTenantData: "the API description is public and the same for everyone"),
        ["GET /agent/{file}"] = new(_ => [Route("file", "medic-agent-linux-x64"), Route("file", "medic-agent-linux-x64.sig")], Isolated: [HttpStatusCode.NotFound],
            NotTenantData: "agent binaries are public and the same for every tenant; this server has none"),
    };

    /// <summary>"METHOD pattern" for every endpoint the server maps whose route has a parameter.</summary>
    private static List<(string Key, string Method, RoutePattern Pattern)> ParameterisedEndpoints(MedicServer server)
    {
        var endpoints = server.Service<IEnumerable<EndpointDataSource>>().SelectMany(s => s.Endpoints)
            .Concat(server.Service<EndpointDataSource>().Endpoints)
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.Parameters.Count > 0);
        var found = new List<(string, string, RoutePattern)>();
        foreach (var endpoint in endpoints)
        {
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
            foreach (var method in methods is { Count: > 0 } ? methods : ["ANY"])
            {
                found.Add(($"{method} {endpoint.RoutePattern.RawText}", method, endpoint.RoutePattern));
            }
        }

        return [.. found.DistinctBy(f => f.Item1)];
    }

    private static string Path(RoutePattern pattern, Dictionary<string, string> values)
    {
        var path = new StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
            {
                path.Append(part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternSeparatorPart separator => separator.Content,
                    RoutePatternParameterPart parameter => Uri.EscapeDataString(values.TryGetValue(parameter.Name, out var v)
                        ? v
                        : throw new ShouldAssertException($"the probe for {pattern.RawText} gives no value for '{parameter.Name}'")),
                    _ => throw new ShouldAssertException($"unexpected route part {part.GetType().Name} in {pattern.RawText}"),
                });
            }
        }

        return path.ToString();
    }

    private static async Task<(TenantOne One, HttpClient SecondAdmin)> TwoTenantsAsync(MedicServer server)
    {
        async Task<HttpClient> TenantAsync(string slug)
        {
            using var create = await server.Admin.PostAsync("/api/v1/tenants", Json.Raw($$"""{"slug":"{{slug}}","admin_username":"{{slug}}-admin","admin_password":"{{slug}}-admin-password"}"""));
            create.StatusCode.ShouldBe(HttpStatusCode.Created);
            return server.Client(await server.LogInAsync($"{slug}-admin", $"{slug}-admin-password", slug));
        }

        var acmeAdmin = await TenantAsync("acme");
        var globexAdmin = await TenantAsync("globex");

        using var me = await acmeAdmin.GetAsync("/api/v1/whoami");
        var admin = await me.ReadAsync(MedicJson.Default.WhoAmIResponse);
        using var addUser = await acmeAdmin.PostAsync("/api/v1/users", Json.Raw("""{"username":"ann","role":"operator","password":"ann-password-123","display_name":"Ann of Acme"}"""));
        var ann = (await addUser.ReadAsync(MedicJson.Default.UserCreatedResponse, HttpStatusCode.Created)).User;
        var annClient = server.Client(await server.LogInAsync("ann", "ann-password-123", "acme"));
        async Task<string> TokenAsync(HttpClient client, string name)
        {
            using var response = await client.PostAsync("/api/v1/tokens", Json.Raw($$"""{"name":"{{name}}"}"""));
            return (await response.ReadAsync(MedicJson.Default.TokenCreatedResponse, HttpStatusCode.Created)).Token.Id;
        }

        var adminToken = await TokenAsync(acmeAdmin, "acme-deploy");
        var annToken = await TokenAsync(annClient, "ann-laptop");
        var revoked = await TokenAsync(acmeAdmin, "acme-old");
        (await acmeAdmin.DeleteAsync($"/api/v1/tokens/{revoked}")).StatusCode.ShouldBe(HttpStatusCode.OK);

        async Task<EnrollmentTokenCreatedResponse> EnrollmentTokenAsync()
        {
            using var response = await acmeAdmin.PostAsync("/api/v1/enrollment-tokens", Json.Raw("""{"tags":{"env":"prod"}}"""));
            return await response.ReadAsync(MedicJson.Default.EnrollmentTokenCreatedResponse, HttpStatusCode.Created);
        }

        var used = await EnrollmentTokenAsync();
        var unused = await EnrollmentTokenAsync();
        using var enroll = await server.Client().PostAsync("/agent/v1/enroll", Json.Raw($$"""{"token":"{{used.Secret}}","name":"acme-web-1"}"""));
        var node = await enroll.ReadAsync(Medic.Contracts.Agent.AgentJson.Default.EnrollResponse);

        using var exec = await acmeAdmin.PostAsync("/api/v1/exec", Json.Raw("""{"command":"uptime","selector":{"names":["acme-web-1"]}}"""));
        var execution = await exec.ReadAsync(MedicJson.Default.ExecutionResponse, HttpStatusCode.Accepted);
        await WaitUntilFinishedAsync(acmeAdmin, execution.Id);
        using var incident = await acmeAdmin.PostAsync("/api/v1/incidents", Json.Raw("""{"title":"acme-web-1 is slow","server":"acme-web-1","severity":"critical"}"""));
        var incidentId = (await incident.ReadAsync(MedicJson.Default.IncidentResponse, HttpStatusCode.Created)).Id;
        using var check = await acmeAdmin.PostAsync("/api/v1/checks", Json.Raw("""{"name":"acme-db","kind":"tcp","target":"127.0.0.1:1","interval":"1d","failures":5}"""));
        var checkId = (await check.ReadAsync(MedicJson.Default.CheckResponse, HttpStatusCode.Created)).Id;
        await WaitForFirstRunAsync(acmeAdmin, checkId);
        using var monitor = await acmeAdmin.PostAsync("/api/v1/monitors", Json.Raw("""{"name":"acme-web","server":"acme-web-1","definition":{"name":"acme-web","kind":"http","url":"http://127.0.0.1:1/"}}"""));
        var monitorId = (await monitor.ReadAsync(MedicJson.Default.MonitorResponse, HttpStatusCode.Created)).Id;

        // An agentless server, with its key in acme's key folder.
        using var keys = new TempDirectory();
        await Sshd.NewKeyPairAsync(System.IO.Path.Combine(keys.Path, "acme-deploy"));
        Fleet.AgentlessServerTests.InstallKey(server, "acme-deploy", System.IO.Path.Combine(keys.Path, "acme-deploy"), "acme");
        var agentless = await Fleet.AgentlessServerTests.AddAsync(acmeAdmin, "acme-legacy-1", "legacy.acme.internal", "acme-deploy", acceptNew: true);
        using (var webhooks = await acmeAdmin.GetAsync("/api/v1/webhooks"))
        {
            webhooks.StatusCode.ShouldBe(HttpStatusCode.OK); // acme has webhook credentials that globex's calls must not match
        }

        foreach (var version in new[] { 1, 2 })
        {
            using var applied = await acmeAdmin.PostAsync("/api/v1/runbooks", Json.Raw(
                $"name: acme-fix\nversion: {version}\nrisk: low\ntargets: {{names: [acme-web-1]}}\nsteps:\n  - run: [uptime]\n", "application/yaml"));
            applied.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var runbookRun = await acmeAdmin.PostAsync("/api/v1/runbooks/acme-fix/runs", Json.Raw("{}"));
        var runbookRunId = (await runbookRun.ReadAsync(MedicJson.Default.RunbookRunResponse, HttpStatusCode.Accepted)).Id;
        await WaitUntilRunbookRunFinishedAsync(acmeAdmin, runbookRunId);

        // Ann proposes a fix for the incident: it waits for another approver.
        using var proposed = await annClient.PostAsync($"/api/v1/incidents/{incidentId}/remediations", Json.Raw("""{"runbook":"acme-fix"}"""));
        proposed.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var pending = await acmeAdmin.GetAsync($"/api/v1/approvals?incident={incidentId}");
        var approvalId = (await pending.ReadAsync(MedicJson.Default.IReadOnlyListApprovalResponse)).ShouldHaveSingleItem().Id;
        using var window = await acmeAdmin.PostAsync("/api/v1/change-windows", Json.Raw("""{"starts_at":"2099-01-01T00:00:00Z","ends_at":"2099-01-01T02:00:00Z","reason":"acme deploy"}"""));
        var windowId = (await window.ReadAsync(MedicJson.Default.ChangeWindowResponse, HttpStatusCode.Created)).Id;

        // Added after the incident and its approval request, so no delivery is in flight (retrying against
        // hooks.slack.invalid and counting attempts) while tenant one's state is compared.
        using var channel = await acmeAdmin.PostAsync("/api/v1/notification-channels", Json.Raw("""{"name":"acme-slack","kind":"slack","url":"https://hooks.slack.invalid/services/acme"}"""));
        var channelId = (await channel.ReadAsync(MedicJson.Default.NotificationChannelResponse, HttpStatusCode.Created)).Id;
        using var rule = await acmeAdmin.PostAsync("/api/v1/notification-rules", Json.Raw("""{"name":"acme-pages","channels":["acme-slack"],"events":["approval_requested"]}"""));
        var ruleId = (await rule.ReadAsync(MedicJson.Default.NotificationRuleResponse, HttpStatusCode.Created)).Id;
        (await acmeAdmin.PutAsync("/api/v1/secrets/acme-db-password", Json.Raw("""{"value":"acme-db-password-value"}"""))).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await acmeAdmin.PutAsync("/api/v1/secrets/acme-api-key", Json.Raw("""{"value":"acme-api-key-value"}"""))).StatusCode.ShouldBe(HttpStatusCode.Created);
        using var silence = await acmeAdmin.PostAsync("/api/v1/silences", Json.Raw("""{"matchers":[{"name":"alertname","op":"=","value":"AcmeDeploy"}],"comment":"acme deploy","duration":"2h"}"""));
        var silenceId = (await silence.ReadAsync(MedicJson.Default.SilenceResponse, HttpStatusCode.Created)).Id;
        foreach (var (agent, role) in new[] { ("acme-triage", "triage"), ("acme-diagnoser", "diagnose") })
        {
            using var saved = await acmeAdmin.PutAsync($"/api/v1/ai/agents/{agent}", Json.Raw($$"""{"roles":["{{role}}"],"system_prompt":"Ann of Acme's agent"}"""));
            saved.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        foreach (var skill in new[] { "acme-skill", "acme-other-skill" })
        {
            using var saved = await acmeAdmin.PutAsync($"/api/v1/ai/skills/{skill}", Json.Raw($$"""{"markdown":"---\nname: {{skill}}\ndescription: Ann of Acme's notes\nwhen: always\n---\nAcme text\n"}"""));
            saved.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        foreach (var tool in new[] { "acme_tool", "acme_other_tool" })
        {
            using var saved = await acmeAdmin.PutAsync($"/api/v1/ai/tools/{tool}", Json.Raw("""{"description":"Ann of Acme's tool","kind":"shell_command","program":"/usr/bin/uptime"}"""));
            saved.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        // An AI run's bundle and an ask session, stored as the run loop and 'medic ask' store them.
        var aiRunId = Medic.Server.Common.Ids.New("air");
        var now = server.Time.GetUtcNow();
        await server.Service<AiRunStore>().SaveAsync(admin.TenantId, "ai_agent:acme-diagnoser", new AiRunBundle
        {
            RunId = aiRunId, Purpose = "diagnose", Agent = "acme-diagnoser", IncidentId = incidentId, Model = "acme-model",
            SystemPrompt = "Ann of Acme's agent", Input = "acme-web-1 is slow", Outcome = "escalated", OutputTokens = 12, InputTokens = 340,
            Steps = [new AiRunStep { Index = 0, Kind = "model", At = now, Text = "acme-web-1 needs a person", Model = "acme-model" }],
            StartedAt = now, FinishedAt = now, Escalated = true,
        }, CancellationToken.None);
        var askSession = await server.Service<AskSessionStore>().CreateAsync(admin.TenantId, "user:" + admin.Username, "why is acme-web-1 slow?", null, CancellationToken.None);

        return (new TenantOne(admin.TenantId, "acme", admin.UserId, admin.Username, ann.Id, ann.Username, adminToken, annToken, revoked,
            unused.Token.Id, node.NodeId, node.Name, execution.Id, incidentId, checkId, agentless.Id, agentless.Name, monitorId, channelId, ruleId, runbookRunId, approvalId, windowId) { SilenceId = silenceId, AiRunId = aiRunId, AskSessionId = askSession.Id }, globexAdmin);
    }

    /// <summary>A new check runs once at once; tenant one's state is compared only after that (its next run is a day away).</summary>
    private static async Task WaitForFirstRunAsync(HttpClient owner, string checkId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await owner.GetAsync($"/api/v1/checks/{checkId}");
            if ((await response.ReadAsync(MedicJson.Default.CheckDetailResponse)).Check.LastRunAt is not null) return;
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"check {checkId} has not run");
            await Task.Delay(50);
        }
    }

    private static async Task WaitUntilRunbookRunFinishedAsync(HttpClient owner, string runId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await owner.GetAsync($"/api/v1/runbook-runs/{runId}");
            if ((await response.ReadAsync(MedicJson.Default.RunbookRunResponse)).Status.ToText() != "running") return;
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"runbook run {runId} is still running");
            await Task.Delay(50);
        }
    }

    /// <summary>The execution runs in the background (its server is offline); tenant one's state is compared only once it is done.</summary>
    private static async Task WaitUntilFinishedAsync(HttpClient owner, string executionId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await owner.GetAsync($"/api/v1/executions/{executionId}");
            var execution = await response.ReadAsync(MedicJson.Default.ExecutionResponse);
            if (execution.Status != "running")
            {
                return;
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, $"execution {executionId} is still running");
            await Task.Delay(50);
        }
    }

    private static async Task<string> TenantStateAsync(TestDatabase db, string tenantId)
    {
        var t = new { t = tenantId };
        return await db.SnapshotAsync("tenants", "id = @t", t)
            + await db.SnapshotAsync("users", "tenant_id = @t", t)
            + await db.SnapshotAsync("api_tokens", "tenant_id = @t", t)
            + await db.SnapshotAsync("enrollment_tokens", "tenant_id = @t", t)
            + await db.SnapshotAsync("nodes", "tenant_id = @t", t)
            + await db.SnapshotAsync("executions", "tenant_id = @t", t)
            + await db.SnapshotAsync("execution_results", "tenant_id = @t", t)
            + await db.SnapshotAsync("webhook_credentials", "tenant_id = @t", t)
            + await db.SnapshotAsync("webhook_source_credentials", "tenant_id = @t", t)
            + await db.SnapshotAsync("silences", "tenant_id = @t", t)
            + await db.SnapshotAsync("silenced_incidents", "tenant_id = @t", t)
            + await db.SnapshotAsync("ai_agents", "tenant_id = @t", t)
            + await db.SnapshotAsync("ai_agent_roles", "tenant_id = @t", t)
            + await db.SnapshotAsync("ai_skills", "tenant_id = @t", t)
            + await db.SnapshotAsync("ai_runs", "tenant_id = @t", t)
            + await db.SnapshotAsync("ai_sessions", "tenant_id = @t", t)
            + await db.SnapshotAsync("incidents", "tenant_id = @t", t)
            + await db.SnapshotAsync("incident_occurrences", "incident_id IN (SELECT id FROM incidents WHERE tenant_id = @t)", t)
            + await db.SnapshotAsync("incident_events", "tenant_id = @t", t)
            + await db.SnapshotAsync("checks", "tenant_id = @t", t)
            + await db.SnapshotAsync("check_results", "tenant_id = @t", t)
            + await db.SnapshotAsync("monitors", "tenant_id = @t", t)
            + await db.SnapshotAsync("notification_channels", "tenant_id = @t", t)
            + await db.SnapshotAsync("notification_rules", "tenant_id = @t", t)
            + await db.SnapshotAsync("notification_deliveries", "tenant_id = @t", t)
            + await db.SnapshotAsync("runbook_versions", "tenant_id = @t", t)
            + await db.SnapshotAsync("runbook_runs", "tenant_id = @t", t)
            + await db.SnapshotAsync("runbook_run_steps", "tenant_id = @t", t)
            + await db.SnapshotAsync("secrets", "tenant_id = @t", t)
            + await db.SnapshotAsync("audit_log", "chain = @t", t)
            + await db.SnapshotAsync("audit_heads", "chain = @t", t);
    }

    [Fact]
    public async Task Every_endpoint_with_a_route_parameter_has_a_row_in_the_probe_table()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);

        var mapped = ParameterisedEndpoints(server).Select(e => e.Key).ToList();

        var missing = mapped.Except(Probes.Keys).ToList();
        missing.ShouldBeEmpty($"add a row to TenantIsolationTests.Probes for each of: {string.Join(", ", missing)}");
        var stale = Probes.Keys.Except(mapped).ToList();
        stale.ShouldBeEmpty($"these rows of TenantIsolationTests.Probes name endpoints that no longer exist: {string.Join(", ", stale)}");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Another_tenants_admin_gets_404_from_every_endpoint_for_this_tenants_ids_and_changes_nothing(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var (one, secondAdmin) = await TwoTenantsAsync(server);
        var before = await TenantStateAsync(server.Database, one.TenantId);
        var endpoints = ParameterisedEndpoints(server);
        var unprobed = endpoints.Where(e => !Probes.ContainsKey(e.Key)).Select(e => e.Key).ToList();
        unprobed.ShouldBeEmpty($"no probe for {string.Join(", ", unprobed)}: add rows to TenantIsolationTests.Probes");

        var leaks = new List<string>();
        var calls = 0;
        foreach (var (key, method, pattern) in endpoints)
        {
            var probe = Probes[key];
            foreach (var values in probe.Values(one))
            {
                var path = Path(pattern, values);
                // An endpoint mapped for any method is called with GET.
                using var request = new HttpRequestMessage(method == "ANY" ? HttpMethod.Get : new HttpMethod(method), path) { Content = probe.Body is null ? null : Json.Raw(probe.Body) };
                using var response = await secondAdmin.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                calls++;
                if (!probe.Expected.Contains(response.StatusCode))
                {
                    leaks.Add($"{method} {path} answered {(int)response.StatusCode}, expected {string.Join(" or ", probe.Expected.Select(s => (int)s))}: {body}");
                }
                else if (probe.NotTenantData is null)
                {
                    // A refusal may echo the id that was asked for, but nothing else of tenant one.
                    foreach (var secret in new[] { "Ann of Acme", one.TenantId, one.ServerName, one.AgentlessServerName, "legacy.acme.internal" }.Where(s => !values.ContainsValue(s)))
                    {
                        if (body.Contains(secret, StringComparison.Ordinal))
                        {
                            leaks.Add($"{method} {path} revealed '{secret}': {body}");
                        }
                    }

                    if (response.StatusCode == HttpStatusCode.NotFound)
                    {
                        // API answers are problem details; the console's pages answer a page a browser can show.
                        var console = !path.StartsWith("/api/", StringComparison.Ordinal) && !path.StartsWith("/ws/", StringComparison.Ordinal) && !path.StartsWith("/agent/", StringComparison.Ordinal);
                        response.Content.Headers.ContentType?.MediaType.ShouldBe(console ? "text/html" : "application/problem+json", $"{method} {path}");
                    }
                }
            }
        }

        leaks.ShouldBeEmpty();
        calls.ShouldBeGreaterThanOrEqualTo(Probes.Count);
        (await TenantStateAsync(server.Database, one.TenantId)).ShouldBe(before, "nothing of tenant one may change");
        var acmeAdmin = server.Client(await server.LogInAsync("acme-admin", "acme-admin-password", "acme"));
        using var verify = await acmeAdmin.GetAsync("/api/v1/audit/verify");
        (await verify.ReadAsync(MedicJson.Default.AuditVerificationReport)).Ok.ShouldBeTrue();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Naming_another_tenants_audit_chain_answers_404(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var (one, secondAdmin) = await TwoTenantsAsync(server);

        foreach (var path in new[] { "/api/v1/audit", "/api/v1/audit/export", "/api/v1/audit/verify", "/api/v1/audit?chain=system", "/api/v1/audit/checkpoints", "/api/v1/audit/checkpoints/export", "/api/v1/audit/checkpoints?chain=system" })
        {
            var url = path.Contains('?', StringComparison.Ordinal) ? path : $"{path}?chain={one.TenantId}";
            using var response = await secondAdmin.GetAsync(url);
            var body = await response.Content.ReadAsStringAsync();
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, $"{url}: {body}");
            body.ShouldNotContain("ann", Case.Sensitive, url);
        }

        // Signing another tenant's chain head, or every chain, is refused, and signs nothing.
        foreach (var (url, status) in new[] { ($"/api/v1/audit/checkpoints?chain={one.TenantId}", HttpStatusCode.NotFound), ("/api/v1/audit/checkpoints?all=true", HttpStatusCode.Forbidden) })
        {
            using var response = await secondAdmin.PostAsync(url, null);
            response.StatusCode.ShouldBe(status, url);
        }

        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_checkpoints WHERE chain = @chain", new { chain = one.TenantId })).ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Lists_show_only_the_callers_tenant(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var (one, secondAdmin) = await TwoTenantsAsync(server);

        using var users = await secondAdmin.GetAsync("/api/v1/users");
        using var tokens = await secondAdmin.GetAsync("/api/v1/tokens");
        using var audit = await secondAdmin.GetAsync("/api/v1/audit?limit=500");
        using var servers = await secondAdmin.GetAsync("/api/v1/servers");
        using var enrollmentTokens = await secondAdmin.GetAsync("/api/v1/enrollment-tokens");
        using var incidents = await secondAdmin.GetAsync("/api/v1/incidents?status=active");
        using var checks = await secondAdmin.GetAsync("/api/v1/checks");
        using var monitors = await secondAdmin.GetAsync("/api/v1/monitors");
        using var channels = await secondAdmin.GetAsync("/api/v1/notification-channels");
        using var rules = await secondAdmin.GetAsync("/api/v1/notification-rules");
        using var runbooks = await secondAdmin.GetAsync("/api/v1/runbooks");
        using var runbookRuns = await secondAdmin.GetAsync("/api/v1/runbook-runs");

        (await users.ReadAsync(MedicJson.Default.IReadOnlyListUserResponse)).Select(u => u.Username).ShouldBe(["globex-admin"]);
        (await tokens.ReadAsync(MedicJson.Default.IReadOnlyListTokenResponse)).ShouldAllBe(t => t.Username == "globex-admin");
        var entries = (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items;
        entries.ShouldNotBeEmpty();
        entries.ShouldAllBe(e => e.Chain != one.TenantId && e.TenantId != one.TenantId);
        (await servers.ReadAsync(MedicJson.Default.IReadOnlyListServerResponse)).ShouldBeEmpty();
        (await enrollmentTokens.ReadAsync(MedicJson.Default.IReadOnlyListEnrollmentTokenResponse)).ShouldBeEmpty();
        (await incidents.ReadAsync(MedicJson.Default.IncidentPage)).Items.ShouldBeEmpty();
        (await checks.ReadAsync(MedicJson.Default.IReadOnlyListCheckResponse)).ShouldBeEmpty();
        (await monitors.ReadAsync(MedicJson.Default.IReadOnlyListMonitorResponse)).ShouldBeEmpty();
        (await channels.ReadAsync(MedicJson.Default.IReadOnlyListNotificationChannelResponse)).ShouldBeEmpty();
        (await rules.ReadAsync(MedicJson.Default.IReadOnlyListNotificationRuleResponse)).ShouldBeEmpty();
        (await runbooks.ReadAsync(MedicJson.Default.IReadOnlyListRunbookSummary)).ShouldAllBe(r => r.Source == "builtin");
        // Tenant one ran acme-fix (TwoTenantsAsync); the second tenant's list of runs is empty.
        (await runbookRuns.ReadAsync(MedicJson.Default.RunbookRunPage)).Items.ShouldBeEmpty();
    }
}
