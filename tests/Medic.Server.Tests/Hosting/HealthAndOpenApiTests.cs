using System.Net;
using System.Text.Json.Nodes;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Hosting;

public sealed class HealthAndOpenApiTests
{
    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Healthz_answers_ok_without_credentials(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);

        using var response = await server.Client().GetAsync("/healthz");

        var body = await response.ReadObjectAsync();
        ((string?)body["status"]).ShouldBe("ok");
        ((string?)body["version"]).ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task The_OpenAPI_document_lists_the_api_endpoints()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);

        using var response = await server.Client().GetAsync("/openapi/v1.json");

        var document = await response.ReadObjectAsync();
        ((string?)document["openapi"]).ShouldStartWith("3.");
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        paths.ShouldContain("/api/v1/tokens");
        paths.ShouldContain("/api/v1/tokens/{id}");
        paths.ShouldContain("/api/v1/users/{id}/role");
        paths.ShouldContain("/api/v1/audit/verify");
        paths.ShouldContain("/api/v1/auth/token");
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_token_creation_with_snake_case_fields()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);

        using var response = await server.Client().GetAsync("/openapi/v1.json");

        var text = (await response.ReadObjectAsync()).ToJsonString();
        text.ShouldContain("\"expires_in\"");
        text.ShouldNotContain("\"ExpiresIn\"");
    }

    [Fact]
    public async Task The_OpenAPI_document_lists_the_values_of_each_state()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);

        using var response = await server.Client().GetAsync("/openapi/v1.json");

        var schemas = (await response.ReadObjectAsync())["components"]!["schemas"]!;
        string[] Values(string schema) => [.. schemas[schema]!["enum"]!.AsArray().Select(v => (string)v!)];
        Values("RemediationStatus").ShouldBe(["awaiting_approval", "rejected", "expired", "cancelled", "executing", "verifying", "succeeded", "awaiting_confirmation", "failed", "unreachable", "escalated"]);
        Values("ApprovalStatus").ShouldBe(["pending", "approved", "rejected", "expired", "cancelled", "superseded"]);
        Values("IncidentStatus").ShouldContain("recipe_proposed");
        Values("NodeStatus").ShouldBe(["online", "offline"]);
        Values("RunbookRunStatus").ShouldBe(["running", "succeeded", "failed", "interrupted", "dry_run"]);
        Values("RunbookStepStatus").ShouldBe(["ok", "failed", "skipped", "timeout", "refused", "offline"]);
    }
}
