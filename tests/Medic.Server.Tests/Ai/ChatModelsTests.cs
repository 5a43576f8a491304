using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Medic.Contracts;
using Medic.ModelServer;
using Medic.Server.Ai.Providers;
using Medic.Server.Secrets;
using Medic.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Medic.Server.Tests.Ai;

/// <summary>Routes over model entries, through the scripted model server and the real OpenAI and Anthropic SDK clients.</summary>
public sealed class ChatModelsTests
{
    private const string Key = "sk-test-0123456789abcdef-provider-key";

    /// <summary>Stands in for Secrets/SecretStore (another part of issue 13) until it is in the build.</summary>
    private static async Task<string> TenantAsync(MedicServer server)
    {
        // The key is a named secret, set the way a user sets it; the routes read it back from the store.
        await AiSetup.SecretAsync(server, "llm-key", Key);
        using var response = await server.Admin.GetAsync("/api/v1/whoami");
        return (await response.ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantId;
    }

    private static ChatModels Models(MedicServer server, TimeProvider? time = null) =>
        new(server.Service<AiModelStore>(), new StoredSecrets(server.Service<SecretStore>()), server.Service<AiBudget>(),
            new CircuitBreakers(time ?? TimeProvider.System), new ChatClientCache(), NullLogger<ChatModels>.Instance);

    private static async Task AddAsync(MedicServer server, AiModelRequest request)
    {
        using var response = await server.Admin.PostAsync("/api/v1/ai/models", Json.Body(request, AiModelsJson.Default.AiModelRequest));
        await response.ReadAsync(AiModelsJson.Default.AiModelResponse, HttpStatusCode.Created);
    }

    private static AiModelRequest OpenAi(string name, ScriptedModelServer model, string? fallback = null, int timeout = 60) =>
        new(name, AiProviders.OpenAi, "gpt-test", model.OpenAiBaseUrl, "llm-key", fallback, timeout, 2.5, 10);

    private static AiModelRequest Anthropic(string name, ScriptedModelServer model) =>
        new(name, AiProviders.Anthropic, "claude-test", model.AnthropicBaseUrl, "llm-key", null, 60, 3, 15);

    private static readonly ChatOptions WithTool = new()
    {
        Tools = [AIFunctionFactory.Create((string unit) => "active", "service_status", "The state of a systemd unit")],
    };

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..12];

    [Theory]
    [InlineData(AiProviders.OpenAi, false)]
    [InlineData(AiProviders.OpenAi, true)]
    [InlineData(AiProviders.Anthropic, false)]
    [InlineData(AiProviders.Anthropic, true)]
    public async Task Text_and_tool_calls_come_back_through_the_real_sdk_clients_plain_and_streaming(string provider, bool streaming)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var tenant = await TenantAsync(server);
        await using var model = await ScriptedModelServer.StartAsync();
        await AddAsync(server, provider == AiProviders.OpenAi ? OpenAi("default", model) : Anthropic("default", model));
        var route = (await Models(server).ResolveAsync(tenant, null, CancellationToken.None))!;
        route.Agent = "diagnose";
        route.RunId = "run_1";

        model.ReplyToolCalls(("service_status", new { unit = "nginx.service" }), ("disk_usage", new { path = "/var", depth = 2 }));
        model.ReplyText("nginx is active; the disk is fine.");
        var first = await CallAsync(route, "why is web-1 slow?", streaming);
        var calls = first.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        calls.Select(c => c.Name).ShouldBe(["service_status", "disk_usage"]);
        calls[0].Arguments!["unit"]!.ToString().ShouldBe("nginx.service");
        ((JsonElement)calls[1].Arguments!["depth"]!).GetInt32().ShouldBe(2);
        calls.ShouldAllBe(c => !string.IsNullOrEmpty(c.CallId));

        var second = await CallAsync(route, "and now?", streaming);
        second.Text.ShouldBe("nginx is active; the disk is fine.");
        second.AdditionalProperties![ChatRoute.ProviderKey].ShouldBe(provider);
        second.AdditionalProperties[ChatRoute.EndpointKey].ShouldBe(provider == AiProviders.OpenAi ? model.OpenAiBaseUrl : model.AnthropicBaseUrl);

        // The model got the prompt and the tool; the key only as the provider's auth header.
        model.Requests.Count.ShouldBe(2);
        var request = model.Requests[0];
        request.Path.ShouldBe(provider == AiProviders.OpenAi ? "/v1/chat/completions" : "/v1/messages");
        request.Stream.ShouldBe(streaming);
        request.LastUserText.ShouldContain("why is web-1 slow?");
        request.ToolNames.ShouldBe(["service_status"]);
        request.HadAuth.ShouldBeTrue();
        request.AuthSha256Prefix.ShouldBe(Hash(Key));
        // The Anthropic SDK 13.15 sends the key as a bearer token here; either way only as the auth header.
        request.Headers.Where(h => h.Value == "(redacted)").Select(h => h.Key.ToLowerInvariant()).ShouldHaveSingleItem().ShouldBeOneOf("authorization", "x-api-key");
        model.Requests.ShouldAllBe(r => !r.Headers.Values.Any(v => v.Contains(Key, StringComparison.Ordinal)));
        model.Requests.ShouldAllBe(r => !r.RawBody.Contains(Key, StringComparison.Ordinal));

        // Both calls' tokens are recorded for the agent and run, with the entry's prices.
        var usage = await server.Service<AiBudget>().UsageAsync(tenant, server.Time.GetUtcNow(), "run", CancellationToken.None);
        usage.Rows.ShouldHaveSingleItem().Key.ShouldBe("run_1");
        usage.Rows[0].Calls.ShouldBe(2);
        usage.InputTokens.ShouldBeGreaterThan(0);
        usage.OutputTokens.ShouldBeGreaterThan(0);
        var (priceIn, priceOut) = provider == AiProviders.OpenAi ? (2.5, 10.0) : (3.0, 15.0);
        usage.CostUsd.ShouldBe((usage.InputTokens * priceIn + usage.OutputTokens * priceOut) / 1e6, 1e-9);
    }

    private static async Task<ChatResponse> CallAsync(IChatClient client, string prompt, bool streaming)
    {
        List<ChatMessage> messages = [new(ChatRole.User, prompt)];
        if (!streaming) return await client.GetResponseAsync(messages, WithTool);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(messages, WithTool)) updates.Add(update);
        updates.Count.ShouldBeGreaterThan(1);
        var response = updates.ToChatResponse();
        response.AdditionalProperties = updates[^1].AdditionalProperties;
        return response;
    }

    [Fact]
    public async Task Entries_sharing_a_name_take_turns()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var tenant = await TenantAsync(server);
        await using var one = await ScriptedModelServer.StartAsync();
        await using var two = await ScriptedModelServer.StartAsync();
        await AddAsync(server, OpenAi("default", one));
        await AddAsync(server, OpenAi("default", two));
        one.Responder = _ => ModelReply.ReplyText("one");
        two.Responder = _ => ModelReply.ReplyText("two");
        var models = Models(server);

        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var route = (await models.ResolveAsync(tenant, "default", CancellationToken.None))!;
            answers.Add((await route.GetResponseAsync("hello")).Text);
        }

        answers.Order().ShouldBe(["one", "one", "two", "two"]);
        one.Requests.Count.ShouldBe(2);
        two.Requests.Count.ShouldBe(2);
    }

    [Fact]
    public async Task A_server_error_and_a_timeout_move_on_to_the_fallback_chain_but_a_bad_request_does_not()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var tenant = await TenantAsync(server);
        await using var primary = await ScriptedModelServer.StartAsync();
        await using var slow = await ScriptedModelServer.StartAsync();
        await using var last = await ScriptedModelServer.StartAsync();
        await AddAsync(server, OpenAi("default", primary, fallback: "slow"));
        await AddAsync(server, OpenAi("slow", slow, fallback: "last", timeout: 1));
        await AddAsync(server, Anthropic("last", last));
        var models = Models(server);

        primary.Fail(500, "upstream broke");
        slow.Delay(TimeSpan.FromSeconds(10));
        slow.ReplyText("too late");
        last.ReplyText("from the last resort");
        var response = await (await models.ResolveAsync(tenant, null, CancellationToken.None))!.GetResponseAsync("hello");
        response.Text.ShouldBe("from the last resort");
        response.AdditionalProperties![ChatRoute.NameKey].ShouldBe("last");
        (primary.Requests.Count, slow.Requests.Count, last.Requests.Count).ShouldBe((1, 1, 1));

        // 429 is worth the next entry too; 400 is the request's fault and is not retried elsewhere.
        primary.Fail(429, "slow down");
        slow.ReplyText("second");
        (await (await models.ResolveAsync(tenant, null, CancellationToken.None))!.GetResponseAsync("again")).Text.ShouldBe("second");
        primary.Fail(400, "bad request");
        await Should.ThrowAsync<Exception>(async () => await (await models.ResolveAsync(tenant, null, CancellationToken.None))!.GetResponseAsync("bad"));
        slow.Requests.Count.ShouldBe(2);

        // Nothing left: the error names every entry's reason.
        primary.Fail(503, "down");
        slow.Fail(502, "down");
        last.Fail(500, "down");
        var failed = await Should.ThrowAsync<ModelUnavailableException>(async () => await (await models.ResolveAsync(tenant, null, CancellationToken.None))!.GetResponseAsync("x"));
        failed.Failures.Count.ShouldBe(3);
        failed.Message.ShouldNotContain(Key);
    }

    [Fact]
    public async Task The_breaker_skips_an_endpoint_after_three_failures_then_lets_one_trial_through_after_30_seconds()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var tenant = await TenantAsync(server);
        await using var flaky = await ScriptedModelServer.StartAsync();
        await using var spare = await ScriptedModelServer.StartAsync();
        await AddAsync(server, OpenAi("default", flaky, fallback: "spare"));
        await AddAsync(server, OpenAi("spare", spare));
        spare.Responder = _ => ModelReply.ReplyText("spare");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var models = Models(server, time);
        async Task<string> AskAsync() => (await (await models.ResolveAsync(tenant, null, CancellationToken.None))!.GetResponseAsync("hi")).Text;

        for (var i = 0; i < 3; i++)
        {
            flaky.Fail(500, "broken");
            (await AskAsync()).ShouldBe("spare");
        }

        flaky.Requests.Count.ShouldBe(3);
        models.Breakers.IsOpen(flaky.OpenAiBaseUrl + "#gpt-test").ShouldBeTrue();
        (await AskAsync()).ShouldBe("spare");
        time.Advance(TimeSpan.FromSeconds(29));
        (await AskAsync()).ShouldBe("spare");
        flaky.Requests.Count.ShouldBe(3, "open: the endpoint is not called");

        // Half-open: one trial; it fails and the breaker opens again.
        time.Advance(TimeSpan.FromSeconds(2));
        flaky.Fail(500, "still broken");
        (await AskAsync()).ShouldBe("spare");
        flaky.Requests.Count.ShouldBe(4);
        (await AskAsync()).ShouldBe("spare");
        flaky.Requests.Count.ShouldBe(4);

        // The next trial succeeds and closes it.
        time.Advance(TimeSpan.FromSeconds(31));
        flaky.ReplyText("recovered");
        (await AskAsync()).ShouldBe("recovered");
        flaky.ReplyText("again");
        (await AskAsync()).ShouldBe("again");
        models.Breakers.IsOpen(flaky.OpenAiBaseUrl + "#gpt-test").ShouldBeFalse();
    }

    [Fact]
    public async Task No_entry_resolves_to_null_and_default_is_preferred_then_the_first_by_name()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var tenant = await TenantAsync(server);
        await using var model = await ScriptedModelServer.StartAsync();
        var models = Models(server);
        (await models.ResolveAsync(tenant, null, CancellationToken.None)).ShouldBeNull();
        await AddAsync(server, OpenAi("zeta", model));
        await AddAsync(server, OpenAi("beta", model));
        (await models.ResolveAsync(tenant, null, CancellationToken.None))!.Name.ShouldBe("beta");
        await AddAsync(server, OpenAi("default", model));
        (await models.ResolveAsync(tenant, null, CancellationToken.None))!.Name.ShouldBe("default");
        (await models.ResolveAsync(tenant, "missing", CancellationToken.None)).ShouldBeNull();
    }

    [Fact]
    public async Task Config_file_entries_are_seen_by_every_tenant_as_source_config()
    {
        await using var model = await ScriptedModelServer.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.Ai.Models.Add(new Common.AiModelOptions
        {
            Name = "default", Provider = "openai", Model = "local", BaseUrl = model.OpenAiBaseUrl,
        }));
        var tenant = await TenantAsync(server);
        using var response = await server.Admin.GetAsync("/api/v1/ai/models");
        var listed = await response.ReadAsync(AiModelsJson.Default.IReadOnlyListAiModelResponse);
        listed.ShouldHaveSingleItem().Source.ShouldBe("config");
        model.ReplyText("hello from config");
        (await (await Models(server).ResolveAsync(tenant, null, CancellationToken.None))!.GetResponseAsync("hi")).Text.ShouldBe("hello from config");
    }
}
