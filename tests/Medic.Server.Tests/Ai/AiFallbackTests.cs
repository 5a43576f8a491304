using System.Net;
using System.Text.Json;
using Medic.Contracts;
using Medic.ModelServer;
using Medic.Server.Ai.Agents;
using Medic.Server.Ai.Patrols;
using Medic.Server.Tests.Infrastructure;
using static Medic.Server.Tests.Ai.AiSetup;

namespace Medic.Server.Tests.Ai;

/// <summary>
/// What happens when the model is missing, failing or too expensive (the rules engine carries on),
/// <c>medic ask</c> over the API, and patrols.
/// </summary>
public sealed class AiFallbackTests
{
    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_failing_entry_falls_back_and_when_every_entry_fails_the_rules_path_escalates(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var primary = await ScriptedModelServer.StartAsync();
        await using var spare = await ScriptedModelServer.StartAsync();
        await SecretAsync(server, "llm-key", Key);
        await ModelAsync(server, "default", primary, fallback: "spare");
        await ModelAsync(server, "spare", spare, anthropic: true);
        await AgentAsync(server);

        // Every call starts at the first entry of the chain; this one always fails.
        primary.Responder = _ => ModelReply.Fail(500, "upstream broke");
        spare.ReplyToolCalls(("escalate", new { reason = "the spare model wants a person to look" }));
        spare.ReplyText("Escalated.");
        var first = await IncidentAsync(server, "backups are late", null);
        var (run, detail) = await DiagnosedAsync(server, first);
        (run.Outcome, run.Model).ShouldBe(("completed", "claude-test"));
        (primary.Requests.Count, spare.Requests.Count).ShouldBe((2, 2));
        spare.Requests[1].RawBody.ShouldContain("the spare model wants a person to look");
        detail.Incident.Status.ToText().ShouldBe("escalated");

        // Nothing answers: the run says so and the incident still reaches a person.
        spare.Fail(502, "down");
        var second = await IncidentAsync(server, "backups are late again", null);
        (run, detail) = await DiagnosedAsync(server, second);
        run.Outcome.ShouldBe("provider_failed");
        detail.Incident.Status.ToText().ShouldBe("escalated");
        detail.Timeline.ShouldContain(e => e.Kind == "escalated" || e.Message.Contains("a person takes it", StringComparison.Ordinal));
        (primary.Requests.Count, spare.Requests.Count).ShouldBe((3, 3));
        run.OutcomeReason!.ShouldContain("no model answered");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_spent_monthly_budget_stops_the_run_after_the_first_call_and_the_rules_carry_on(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var model = await ScriptedModelServer.StartAsync();
        await ConfigureAsync(server, model);
        using (var budget = await server.Admin.PutAsync("/api/v1/ai/budget", Json.Body(new AiBudgetRequest(0.000001), AiModelsJson.Default.AiBudgetRequest)))
        {
            budget.IsSuccessStatusCode.ShouldBeTrue(await budget.Content.ReadAsStringAsync());
        }

        model.Enqueue(ModelReply.ReplyToolCalls(("list_recipes", new { })).WithUsage(1000, 100));
        model.ReplyText("never asked");
        var incident = await IncidentAsync(server, "queue is stuck", null);
        var (run, detail) = await DiagnosedAsync(server, incident);

        run.Outcome.ShouldBe("budget_exhausted");
        run.Cost!.Value.ShouldBeGreaterThan(0m);
        model.Requests.Count.ShouldBe(1);
        detail.Incident.Status.ToText().ShouldBe("escalated");
        detail.Timeline.ShouldContain(e => e.Kind == "ai_run" && e.Message.Contains("budget_exhausted", StringComparison.Ordinal));
        using var state = await server.Admin.GetAsync("/api/v1/ai/budget");
        (await state.ReadAsync(AiModelsJson.Default.AiBudgetResponse)).Exhausted.ShouldBeTrue();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Without_a_model_triage_goes_on_as_before_and_ask_answers_409_with_a_remedy(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await AgentAsync(server);
        var incident = await IncidentAsync(server, "something is off", null);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IncidentDetailResponse detail;
        while (!(detail = await DetailAsync(server, incident)).Timeline.Any(e => e.Kind == "triage"))
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, string.Join(" | ", detail.Timeline.Select(e => $"{e.Kind}: {e.Message}")));
            await Task.Delay(100);
        }

        // A person's own incident stays with them (open), noted by the rules path; no model was called.
        detail.Timeline.Single(e => e.Kind == "triage").Message.ShouldContain("no rule proposes a recipe");
        detail.Incident.Status.ToText().ShouldBe("open");
        detail.Timeline.ShouldNotContain(e => e.Kind == "ai_run");
        (await RunsAsync(server)).ShouldBeEmpty();

        using var ask = await server.Admin.PostAsync("/api/v1/ai/ask", Json.Body(new AskRequest("why is web-1 slow?"), MedicJson.Default.AskRequest));
        var problem = await ask.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        problem.ToJsonString().ShouldContain("medic ai models add default");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Ask_streams_ndjson_and_a_second_question_carries_the_first_turn(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var model = await ScriptedModelServer.StartAsync();
        await ConfigureAsync(server, model);
        model.ReplyToolCalls(("list_recipes", new { }));
        model.ReplyText("Nothing is wrong with web-1.");
        var first = await AskAsync(server, new AskRequest("why is web-1 slow?", New: true));
        // The text streams in the chunks the model sent it in.
        first.Select(e => e.Type).Distinct().ShouldBe(["session", "tool", "text", "done"], string.Join("\n", first.Select(e => e.Type + ": " + e.Text)));
        first.Count(e => e.Type == "text").ShouldBeGreaterThan(1);
        first[1].Tool.ShouldBe("list_recipes");
        string.Concat(first.Where(e => e.Type == "text").Select(e => e.Text)).ShouldBe("Nothing is wrong with web-1.");
        (first[^1].Outcome, first[^1].Session).ShouldBe(("completed", first[0].Session));
        model.Requests.ShouldAllBe(r => r.Stream);

        model.ReplyText("Still fine.");
        var second = await AskAsync(server, new AskRequest("and the disk?", Session: first[0].Session));
        second[0].Session.ShouldBe(first[0].Session);
        second[^1].Outcome.ShouldBe("completed");
        var carried = model.Requests[^1];
        carried.RawBody.ShouldContain("why is web-1 slow?");
        carried.RawBody.ShouldContain("Nothing is wrong with web-1.");
        carried.LastUserText.ShouldContain("and the disk?");
        (await RunsAsync(server, purpose: "ask")).Count.ShouldBe(2);
    }

    private static async Task<List<AskEvent>> AskAsync(MedicServer server, AskRequest request)
    {
        using var response = await server.Admin.PostAsync("/api/v1/ai/ask", Json.Body(request, MedicJson.Default.AskRequest));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/x-ndjson");
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return [.. lines.Select(l => JsonSerializer.Deserialize(l, MedicJson.Default.AskEvent)!)];
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_patrol_without_a_model_is_statistical_and_with_one_reports_at_most_three_findings(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var web1 = await WireAgent.EnrollAsync(server, "web-1");
        // A patrolling agent without the diagnose role: the findings' own incidents do not call the model.
        await AgentAsync(server, AiTrust.Supervised, "patroller", roles: []);
        using var who = await server.Admin.GetAsync("/api/v1/whoami");
        var tenant = (await who.ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantId;
        var agent = (await server.Service<AiAgentStore>().GetAsync(tenant, "patroller", CancellationToken.None))!;
        var patrol = server.Service<AiPatrol>();
        var since = server.Time.GetUtcNow().AddHours(-1);

        var statistical = await patrol.PatrolAsync(tenant, agent, since, CancellationToken.None);
        (statistical.Purpose, statistical.Outcome).ShouldBe(("patrol", "statistical_only"));

        await using var model = await ScriptedModelServer.StartAsync();
        await SecretAsync(server, "llm-key", Key);
        await ModelAsync(server, "default", model);
        model.ReplyToolCalls([.. Enumerable.Range(1, 4).Select(i => ("report_finding", (object)new { server = "web-1", title = $"trend {i} on web-1", summary = "grows daily", severity = "warning" }))]);
        model.ReplyText("Three findings reported.");
        var run = await patrol.PatrolAsync(tenant, agent, since, CancellationToken.None);
        (run.Outcome, run.ToolCalls).ShouldBe(("completed", 4));
        model.Requests[0].ToolNames.ShouldContain("report_finding");
        model.Requests[0].ToolNames.ShouldNotContain("propose_remediation");
        ToolResults(model.Requests[1]).Select(ErrorCode).ShouldBe([null, null, null, "policy.denied"]);

        using var list = await server.Admin.GetAsync("/api/v1/incidents?limit=50");
        var findings = (await list.ReadAsync(MedicJson.Default.IncidentPage)).Items.Where(i => i.Type == ReportFindingTool.IncidentType).ToList();
        findings.Count.ShouldBe(3);
        findings.ShouldAllBe(i => i.Server == "web-1" && i.Source == "patrol");
        (await RunsAsync(server, purpose: "patrol")).Count.ShouldBe(2);
        (await RunsAsync(server)).Count.ShouldBe(2);
        model.Requests.Count.ShouldBe(2);
    }
}
