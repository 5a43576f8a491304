using System.ClientModel;
using Anthropic;
using Medic.ModelServer;
using Medic.Server.Ai.Eval;
using Medic.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;

namespace Medic.Server.Tests.Ai;

/// <summary>
/// The scripted model server's rules baseline (<see cref="RulesResponder"/>) through the real run loop and the
/// real OpenAI and Anthropic clients: it reads the incident and the tool results from either request shape.
/// </summary>
public sealed class RulesBaselineTests
{
    private static readonly string[] Ids = ["disk-full-journal", "service-down-port-held-by-stray", "escalate-disk-full-database", "cert-expiring-haproxy"];

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task The_rules_baseline_examines_then_proposes_or_escalates_on_either_api(string api)
    {
        await using var server = await MedicServer.StartAsync("sqlite");
        await using var model = await ScriptedModelServer.StartAsync();
        model.Responder = RulesResponder.Answer;
        IChatClient client = api == "openai"
            ? new OpenAIClient(new ApiKeyCredential("k"), new OpenAIClientOptions { Endpoint = new Uri(model.OpenAiBaseUrl) }).GetChatClient("rules").AsIChatClient()
            : new AnthropicClient { BaseUrl = model.AnthropicBaseUrl, ApiKey = "k", MaxRetries = 0 }.AsIChatClient("rules");
        var scenarios = EvalScenarioLoader.LoadEmbedded().Where(s => Ids.Contains(s.Id)).ToList();

        var report = await server.Services.GetRequiredService<EvalHarness>().RunAllAsync(client, scenarios, new EvalRunOptions(Model: "rules"), null, CancellationToken.None);

        report.Results.Count.ShouldBe(Ids.Length);
        report.Results.ShouldAllBe(r => r.Correct, string.Join("; ", report.Results.Select(r => r.Id + ": " + r.Verdict)));
        var stray = report.Results.Single(r => r.Id == "service-down-port-held-by-stray");
        stray.Proposals.ShouldHaveSingleItem().ShouldContain("holder_pid=88104");
        stray.ToolCalls.ShouldBe(3, "service-status, then port-holder, then the proposal");
        report.Results.Single(r => r.Id == "escalate-disk-full-database").Escalated.ShouldBeTrue();
        model.Requests.ShouldAllBe(r => r.Api == api);
    }
}
