using System.Net;
using System.Net.Http.Headers;
using Medic.Contracts;
using Medic.ModelServer;
using Medic.Server.Ai.Providers;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Ai;

/// <summary>/api/v1/ai/models, usage and budget, on both dialects.</summary>
public sealed class AiModelsApiTests
{
    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string json) =>
        await client.PostAsync("/api/v1/ai/models", new StringContent(json, new MediaTypeHeaderValue("application/json")));

    private static async Task<string> TenantAsync(MedicServer server)
    {
        using var response = await server.Admin.GetAsync("/api/v1/whoami");
        return (await response.ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantId;
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Entries_are_added_listed_tested_and_removed_by_admins_and_listed_for_viewers(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var model = await ScriptedModelServer.StartAsync();
        using (var added = await PostAsync(server.Admin, $$"""{"name":"default","provider":"openai","model":"gpt-test","base_url":"{{model.OpenAiBaseUrl}}","price_in":1,"price_out":2}"""))
        {
            var entry = await added.ReadAsync(AiModelsJson.Default.AiModelResponse, HttpStatusCode.Created);
            (entry.Source, entry.TimeoutSeconds, entry.BaseUrl).ShouldBe(("tenant", 60, model.OpenAiBaseUrl));
        }

        using (var second = await PostAsync(server.Admin, $$"""{"name":"default","provider":"anthropic","model":"claude-test","base_url":"{{model.AnthropicBaseUrl}}"}"""))
        {
            second.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var viewer = await server.ClientForNewUserAsync(server.Admin, "viewer1", Role.Viewer);
        using (var listed = await viewer.GetAsync("/api/v1/ai/models"))
        {
            (await listed.ReadAsync(AiModelsJson.Default.IReadOnlyListAiModelResponse)).Select(e => e.Provider).ShouldBe(["openai", "anthropic"]);
        }

        using (var refused = await PostAsync(viewer, """{"name":"x","provider":"openai","model":"m"}"""))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        model.Responder = _ => ModelReply.ReplyText("ok");
        using (var tested = await server.Admin.PostAsync("/api/v1/ai/models/default/test", null))
        {
            var result = await tested.ReadAsync(AiModelsJson.Default.AiModelTestResponse);
            (result.Ok, result.Reply).ShouldBe((true, "ok"));
            result.AnsweredBy.ShouldNotBeNull().ShouldContain(model.BaseUrl);
        }

        model.Responder = _ => ModelReply.Fail(500, "broken");
        using (var failing = await server.Admin.PostAsync("/api/v1/ai/models/default/test", null))
        {
            var result = await failing.ReadAsync(AiModelsJson.Default.AiModelTestResponse);
            result.Ok.ShouldBeFalse();
            result.Error.ShouldNotBeNull().ShouldContain("HTTP 500");
        }

        using (var removed = await server.Admin.DeleteAsync("/api/v1/ai/models/default"))
        {
            removed.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using (var gone = await server.Admin.DeleteAsync("/api/v1/ai/models/default"))
        {
            gone.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        using var audit = await server.Admin.GetAsync("/api/v1/audit?limit=50");
        var log = await audit.Content.ReadAsStringAsync();
        log.ShouldContain("ai.model.add");
        log.ShouldContain("ai.model.remove");
    }

    [Theory]
    [InlineData("""{"name":"Bad Name","provider":"openai","model":"m"}""", "name")]
    [InlineData("""{"name":"a","provider":"gemini","model":"m"}""", "provider")]
    [InlineData("""{"name":"a","provider":"openai","model":"m","base_url":"ftp://x"}""", "base_url")]
    [InlineData("""{"name":"a","provider":"openai","model":"m","key_secret":"sk-live key"}""", "key_secret")]
    [InlineData("""{"name":"a","provider":"openai","model":"m","timeout_seconds":0}""", "timeout_seconds")]
    [InlineData("""{"name":"a","provider":"openai","model":"m","fallback":"a"}""", "fallback")]
    public async Task A_bad_entry_is_refused_naming_the_field(string json, string field)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var response = await PostAsync(server.Admin, json);
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldContain($"\"{field}\"");
    }

    [Fact]
    public async Task A_key_secret_the_tenant_does_not_have_is_reported_by_name_without_calling_the_model()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        await using var model = await ScriptedModelServer.StartAsync();
        using (var added = await PostAsync(server.Admin, $$"""{"name":"default","provider":"openai","model":"m","base_url":"{{model.OpenAiBaseUrl}}","key_secret":"openai-key"}"""))
        {
            var entry = await added.ReadAsync(AiModelsJson.Default.AiModelResponse, HttpStatusCode.Created);
            entry.KeySecret.ShouldBe("openai-key");
        }

        using var tested = await server.Admin.PostAsync("/api/v1/ai/models/default/test", null);
        var result = await tested.ReadAsync(AiModelsJson.Default.AiModelTestResponse);
        result.Ok.ShouldBeFalse();
        result.Error.ShouldNotBeNull().ShouldContain("openai-key");
        model.Requests.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Usage_sums_by_agent_model_and_run_and_a_spent_budget_reports_exhausted(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var tenant = await TenantAsync(server);
        var budget = server.Service<AiBudget>();
        (await budget.CheckAsync(tenant, CancellationToken.None)).Exhausted.ShouldBeFalse("no budget: never exhausted");
        await budget.RecordAsync(tenant, "diagnose", "run_1", "default", 1000, 200, 0.75, CancellationToken.None);
        await budget.RecordAsync(tenant, "diagnose", "run_2", "fast", 500, 100, 0.20, CancellationToken.None);
        await budget.RecordAsync(tenant, "triage", "run_3", "fast", 100, 10, 0.05, CancellationToken.None);

        using (var byAgent = await server.Admin.GetAsync("/api/v1/ai/usage?by=agent"))
        {
            var usage = await byAgent.ReadAsync(AiModelsJson.Default.AiUsageResponse);
            usage.Rows.Select(r => (r.Key, r.Calls, r.InputTokens)).ShouldBe([("diagnose", 2L, 1500L), ("triage", 1L, 100L)]);
            usage.CostUsd.ShouldBe(1.0, 1e-9);
        }

        using (var byModel = await server.Admin.GetAsync("/api/v1/ai/usage?by=model&month=" + server.Time.GetUtcNow().ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture)))
        {
            (await byModel.ReadAsync(AiModelsJson.Default.AiUsageResponse)).Rows.Select(r => r.Key).ShouldBe(["default", "fast"]);
        }

        using (var lastYear = await server.Admin.GetAsync("/api/v1/ai/usage?month=2001-01"))
        {
            (await lastYear.ReadAsync(AiModelsJson.Default.AiUsageResponse)).Rows.ShouldBeEmpty();
        }

        using (var bad = await server.Admin.GetAsync("/api/v1/ai/usage?by=colour"))
        {
            bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        }

        using (var set = await server.Admin.PutAsync("/api/v1/ai/budget", new StringContent("""{"monthly_usd":2}""", new MediaTypeHeaderValue("application/json"))))
        {
            var state = await set.ReadAsync(AiModelsJson.Default.AiBudgetResponse);
            (state.MonthlyUsd, state.Exhausted).ShouldBe((2.0, false));
            state.SpentUsd.ShouldBe(1.0, 1e-9);
        }

        await budget.RecordAsync(tenant, "diagnose", "run_4", "default", 10, 10, 1.5, CancellationToken.None);
        var exhausted = await budget.CheckAsync(tenant, CancellationToken.None);
        (exhausted.Exhausted, exhausted.LimitUsd).ShouldBe((true, 2.0));
        using (var read = await server.Admin.GetAsync("/api/v1/ai/budget"))
        {
            (await read.ReadAsync(AiModelsJson.Default.AiBudgetResponse)).Exhausted.ShouldBeTrue();
        }

        // Another tenant's spend is its own.
        (await budget.CheckAsync("tenant-that-spent-nothing", CancellationToken.None)).SpentUsd.ShouldBe(0);
    }
}
