using System.Net;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.ModelServer;
using Medic.Server.Tests.Infrastructure;
using Medic.Server.Tests.Pipeline;
using static Medic.Server.Tests.Ai.AiSetup;

namespace Medic.Server.Tests.Ai;

/// <summary>
/// The validate, review and report roles in the pipeline, through the real SDK clients against the
/// scripted model server: a validator can only make the gate stricter, a reviewer's text lands on the
/// timeline after verification, a report gets an AI-written narrative with its run. The triage rule
/// proposes an autonomous low-risk recipe (auto-run without AI); the agent connected here answers every
/// task it is sent with exit 0 and counts the runbook steps it was sent.
/// </summary>
public sealed class AiStageTests
{
    private static readonly string[] Acting = ["propose_remediation", "escalate", "add_note"];

    private sealed class Fleet : IAsyncDisposable
    {
        private int _executions;

        public required MedicServer Server { get; init; }

        public required WireAgent Web1 { get; init; }

        public required ScriptedModelServer Model { get; init; }

        /// <summary>The runbook steps web-1 was sent (not the diagnostic verbs).</summary>
        public int Executions => Volatile.Read(ref _executions);

        public static async Task<Fleet> StartAsync(string dialect, bool anthropic, AiRole role)
        {
            var server = await MedicServer.StartAsync(dialect, o => o.Pipeline.NodeGraceSeconds = 0);
            using (var applied = await server.Admin.PostAsync("/api/v1/runbooks", Json.Raw(PipelineApiTests.FixWeb, "application/yaml")))
            {
                applied.StatusCode.ShouldBe(HttpStatusCode.Created);
            }

            using (var rules = await server.Admin.PutAsync("/api/v1/pipeline/triage-rules", Json.Body(new TriageRulesRequest(PipelineApiTests.Rules), MedicJson.Default.TriageRulesRequest)))
            {
                rules.StatusCode.ShouldBe(HttpStatusCode.OK);
            }

            var web1 = await WireAgent.EnrollAsync(server, "web-1");
            var model = await ScriptedModelServer.StartAsync();
            var fleet = new Fleet { Server = server, Web1 = web1, Model = model };
            web1.AutoAnswer = task =>
            {
                if (task.Kind != TaskKind.Diag) Interlocked.Increment(ref fleet._executions);
                return WireAgent.Completed(task, 0);
            };
            await web1.ConnectAsync(server);
            await SecretAsync(server, "llm-key", Key);
            await ModelAsync(server, "default", model, anthropic: anthropic);
            await AgentAsync(server, AiTrust.Autonomous, "checker", [role]);
            return fleet;
        }

        public async Task<string> OpenAsync(string title = "web-1 is down", string type = "web_down")
        {
            using var response = await Server.Admin.PostAsync("/api/v1/incidents", Json.Body(
                new CreateIncidentRequest(title, "critical", "web-1", null, type, new Dictionary<string, string> { ["unit"] = "nginx" }), MedicJson.Default.CreateIncidentRequest));
            return (await response.ReadAsync(MedicJson.Default.IncidentResponse, HttpStatusCode.Created)).Id;
        }

        public async Task<IncidentDetailResponse> WaitAsync(string incident, Func<IncidentDetailResponse, bool> done, string what)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                var detail = await DetailAsync(Server, incident);
                if (done(detail)) return detail;
                DateTime.UtcNow.ShouldBeLessThan(deadline, $"{what}: incident {incident} is {detail.Incident.Status.ToText()}; timeline: "
                    + string.Join(" | ", detail.Timeline.Select(e => $"{e.Kind} by {e.Actor}: {e.Message}")));
                await Task.Delay(100);
            }
        }

        public Task<IncidentDetailResponse> WaitForStatusAsync(string incident, string status) =>
            WaitAsync(incident, d => d.Incident.Status.ToText() == status, "waiting for " + status);

        public async ValueTask DisposeAsync()
        {
            await Model.DisposeAsync();
            await Web1.DisposeAsync();
            await Server.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(TestDatabase.Sqlite, false)]
    [InlineData(TestDatabase.Postgres, false)]
    [InlineData(TestDatabase.Sqlite, true)]
    public async Task A_validator_that_disagrees_turns_an_automatic_low_risk_run_into_a_pending_approval_and_nothing_runs_until_a_person_approves(string dialect, bool anthropic)
    {
        await using var fleet = await Fleet.StartAsync(dialect, anthropic, AiRole.Validate);
        var model = fleet.Model;
        model.ReplyToolCalls(("server_facts", new { }));
        model.ReplyText("The evidence names no failing nginx.\n**VERDICT:** disagree: the evidence does not show nginx failing, restarting it hides the cause");

        var incident = await fleet.OpenAsync();
        var detail = await fleet.WaitForStatusAsync(incident, "awaiting_approval");

        var run = (await RunsAsync(fleet.Server, incident, "validate")).ShouldHaveSingleItem();
        (run.Agent, run.Actor, run.Outcome, run.ToolCalls).ShouldBe(("checker", "ai:checker", "completed", 1));
        const string Reason = "the evidence does not show nginx failing, restarting it hides the cause";
        var remediation = (await RemediationsAsync(fleet.Server, incident)).ShouldHaveSingleItem();
        (remediation.Runbook, remediation.ProposedBy, remediation.Gate, remediation.Status.ToText(), remediation.RunId)
            .ShouldBe(("fix-web", "rule:web-down", "needs_approval", "awaiting_approval", (string?)null));
        remediation.GateReason.ShouldBe($"AI validator checker disagrees (run {run.Id}): {Reason}; a person decides");
        var note = detail.Timeline.Single(e => e.Kind == "ai_run");
        (note.Actor, note.Data!["ai_run"], note.Data["purpose"], note.Data["verdict"]).ShouldBe(("ai:checker", run.Id, "validate", "disagree"));
        note.Message.ShouldContain(Reason);
        detail.Timeline.Select(e => e.Kind).ShouldBe(["opened", "triaging", "recipe_proposed", "ai_run", "awaiting_approval"]);
        detail.Timeline[^1].Message.ShouldContain(Reason);
        ApprovalResponse approval;
        using (var list = await fleet.Server.Admin.GetAsync($"/api/v1/approvals?incident={incident}"))
        {
            approval = (await list.ReadAsync(MedicJson.Default.IReadOnlyListApprovalResponse)).ShouldHaveSingleItem();
        }

        approval.Reason.ShouldBe(remediation.GateReason);

        // The validator read the proposal and could only look: no tool that proposes, escalates or notes.
        model.Requests.Count.ShouldBe(2);
        model.Requests[0].ToolNames.ShouldNotContain(t => Acting.Contains(t));
        model.Requests[0].ToolNames.ShouldContain("server_facts");
        model.Requests[0].LastUserText.ShouldContain("Recipe: fix-web v1 (low risk)");
        model.Requests[0].LastUserText.ShouldContain("Parameters: unit=nginx");
        model.Requests[0].LastUserText.ShouldContain("Proposed by rule:web-down");
        var bundle = await BundleAsync(fleet.Server, run.Id);
        (bundle.Integrity, bundle.Proposals.Count, bundle.Escalated).ShouldBe(("ok", 0, false));

        await Task.Delay(500);
        fleet.Executions.ShouldBe(0, "nothing runs before a person approves");
        (await RemediationsAsync(fleet.Server, incident)).Single().RunId.ShouldBeNull();

        using (var approved = await fleet.Server.Admin.PostAsync($"/api/v1/approvals/{approval.Id}/approve", Json.Raw("""{"comment":"checked by hand"}""")))
        {
            approved.IsSuccessStatusCode.ShouldBeTrue(await approved.Content.ReadAsStringAsync());
        }

        await fleet.WaitAsync(incident, d => d.Incident.Status is IncidentStatus.Verifying or IncidentStatus.Resolved || d.Timeline.Any(e => e.Kind == "awaiting_confirmation"), "the approved run");
        fleet.Executions.ShouldBe(1);
        (await RemediationsAsync(fleet.Server, incident)).Single().RunId.ShouldNotBeNull();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_diagnosing_agents_proposal_is_validated_inside_its_tool_call_and_the_disagreement_is_what_the_model_reads_back(string dialect)
    {
        await using var fleet = await Fleet.StartAsync(dialect, anthropic: false, AiRole.Validate);
        await AgentAsync(fleet.Server, AiTrust.Autonomous, "doctor", [AiRole.Diagnose]);
        var model = fleet.Model;
        model.ReplyToolCalls(("propose_remediation", new { recipe = "fix-web", @params = new { unit = "nginx" }, rationale = "nginx looks stuck" }));
        model.ReplyText("VERDICT: disagree: a slow site is not a down nginx");
        model.ReplyText("Proposed fix-web; a person decides.");

        var incident = await fleet.OpenAsync("web-1 is slow", type: "web_slow");
        var (diagnosis, detail) = await DiagnosedAsync(fleet.Server, incident);

        detail.Incident.Status.ToText().ShouldBe("awaiting_approval");
        var validation = (await RunsAsync(fleet.Server, incident, "validate")).ShouldHaveSingleItem();
        var remediation = (await RemediationsAsync(fleet.Server, incident)).ShouldHaveSingleItem();
        (remediation.ProposedBy, remediation.Gate).ShouldBe(("ai:doctor", "needs_approval"));
        remediation.GateReason.ShouldBe($"AI validator checker disagrees (run {validation.Id}): a slow site is not a down nginx; a person decides");
        model.Requests.Count.ShouldBe(3);
        model.Requests[1].LastUserText.ShouldContain("Proposed by ai:doctor: ai:doctor proposes fix-web: nginx looks stuck");
        ToolResults(model.Requests[2])[^1].ShouldContain("needs_approval");
        (await BundleAsync(fleet.Server, diagnosis.Id)).Proposals.ShouldBe([remediation.Id]);
        fleet.Executions.ShouldBe(0);
    }

    [Theory]
    [InlineData(TestDatabase.Sqlite, false)]
    [InlineData(TestDatabase.Postgres, true)]
    public async Task An_agreeing_validator_changes_nothing_the_low_risk_recipe_runs_on_its_own(string dialect, bool anthropic)
    {
        await using var fleet = await Fleet.StartAsync(dialect, anthropic, AiRole.Validate);
        fleet.Model.ReplyText("nginx is the unit the alert names; restarting it is the narrowest fix.\nVERDICT: agree");

        var incident = await fleet.OpenAsync();
        var detail = await fleet.WaitAsync(incident, d => d.Timeline.Any(e => e.Kind == "remediation_started"), "the automatic run");

        var run = (await RunsAsync(fleet.Server, incident, "validate")).ShouldHaveSingleItem();
        var remediation = (await RemediationsAsync(fleet.Server, incident)).ShouldHaveSingleItem();
        (remediation.Gate, remediation.GateReason).ShouldBe(("auto_run", "low risk, autonomous actor, within limits"));
        var note = detail.Timeline.Single(e => e.Kind == "ai_run");
        (note.Data!["ai_run"], note.Data["verdict"]).ShouldBe((run.Id, "agree"));
        detail.Timeline.Select(e => e.Kind).Take(5).ShouldBe(["opened", "triaging", "recipe_proposed", "ai_run", "executing"]);
        await fleet.WaitAsync(incident, _ => fleet.Executions == 1, "the run reaching web-1");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_validator_whose_model_fails_leaves_the_gate_as_it_was_and_says_so(string dialect)
    {
        await using var fleet = await Fleet.StartAsync(dialect, anthropic: false, AiRole.Validate);
        fleet.Model.Responder = _ => ModelReply.Fail(500, "upstream broke");

        var incident = await fleet.OpenAsync();
        var detail = await fleet.WaitAsync(incident, d => d.Timeline.Any(e => e.Kind == "remediation_started"), "the automatic run");

        var run = (await RunsAsync(fleet.Server, incident, "validate")).ShouldHaveSingleItem();
        run.Outcome.ShouldBe("provider_failed");
        var remediation = (await RemediationsAsync(fleet.Server, incident)).ShouldHaveSingleItem();
        (remediation.Gate, remediation.GateReason).ShouldBe(("auto_run", "low risk, autonomous actor, within limits"));
        var note = detail.Timeline.Single(e => e.Kind == "ai_run");
        (note.Data!["ai_run"], note.Data["verdict"]).ShouldBe((run.Id, "none"));
        note.Message.ShouldContain("gave no verdict (the run ended provider_failed");
        note.Message.ShouldContain("decides as without it");
        fleet.Model.Requests.Count.ShouldBeGreaterThan(0);
    }

    [Theory]
    [InlineData(TestDatabase.Sqlite, false)]
    [InlineData(TestDatabase.Postgres, true)]
    public async Task A_reviewer_notes_its_review_of_the_outcome_on_the_timeline_after_resolution(string dialect, bool anthropic)
    {
        await using var fleet = await Fleet.StartAsync(dialect, anthropic, AiRole.Review);
        const string Review = "fix-web restarted nginx and a person confirmed the site is back. Next time: add a check on the site so verification needs no person.";
        fleet.Model.ReplyText(Review);

        var incident = await fleet.OpenAsync();
        await fleet.WaitAsync(incident, d => d.Timeline.Any(e => e.Kind == "awaiting_confirmation"), "verification waiting for a person");
        fleet.Model.Requests.ShouldBeEmpty("the review comes after verification");
        using (var resolve = await fleet.Server.Admin.PostAsync($"/api/v1/incidents/{incident}/resolve", Json.Raw("""{"comment":"site is back"}""")))
        {
            resolve.IsSuccessStatusCode.ShouldBeTrue(await resolve.Content.ReadAsStringAsync());
        }

        var detail = await fleet.WaitAsync(incident, d => d.Timeline.Any(e => e.Kind == "ai_run"), "the review");
        var run = (await RunsAsync(fleet.Server, incident, "review")).ShouldHaveSingleItem();
        var remediation = (await RemediationsAsync(fleet.Server, incident)).ShouldHaveSingleItem();
        remediation.Status.ToText().ShouldBe("succeeded");
        var note = detail.Timeline.Single(e => e.Kind == "ai_run");
        (note.Actor, note.Data!["ai_run"], note.Data["purpose"], note.Data["round"], note.Data["remediation"]).ShouldBe(("ai:checker", run.Id, "review", "1", remediation.Id));
        note.Message.ShouldBe($"AI review of fix-web (succeeded) by checker (run {run.Id}): {Review}");
        detail.Incident.Status.ToText().ShouldBe("resolved");
        (await BundleAsync(fleet.Server, run.Id)).Output.ShouldBe(Review);

        var request = fleet.Model.Requests.ShouldHaveSingleItem();
        request.ToolNames.ShouldNotContain(t => Acting.Contains(t));
        request.LastUserText.ShouldContain("Recipe: fix-web v1 (low risk) on web-1");
        request.LastUserText.ShouldContain("Status: succeeded");
        request.LastUserText.ShouldContain("confirmed by a person");

        // Once per round: the job run again finds the review there.
        await Task.Delay(500);
        (await RunsAsync(fleet.Server, incident, "review")).Count.ShouldBe(1);
    }

    [Theory]
    [InlineData(TestDatabase.Sqlite, false)]
    [InlineData(TestDatabase.Postgres, true)]
    public async Task A_report_gets_an_ai_written_narrative_with_its_run_and_without_the_role_it_is_the_record_alone(string dialect, bool anthropic)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var model = await ScriptedModelServer.StartAsync();
        await SecretAsync(server, "llm-key", Key);
        await ModelAsync(server, "default", model, anthropic: anthropic);
        var incident = await IncidentAsync(server, "backups on db-1 are late", null, "the nightly dump did not finish");
        var settled = DateTime.UtcNow.AddSeconds(30);
        while (!(await DetailAsync(server, incident)).Timeline.Any(e => e.Kind == "triage"))
        {
            DateTime.UtcNow.ShouldBeLessThan(settled, "triage did not note its outcome");
            await Task.Delay(50);
        }

        // No agent holds the report role: the report is the record, as before.
        var plain = await ReportAsync(server, incident);
        plain.Narrative.ShouldBeNull();
        (await MarkdownAsync(server, incident)).ShouldNotContain("Narrative");
        model.Requests.ShouldBeEmpty();

        await AgentAsync(server, AiTrust.Autonomous, "writer", [AiRole.Report]);
        const string Story = "A person opened the incident because the nightly dump on db-1 did not finish.\n\nNo triage rule applies, so it waits for a person.";
        model.ReplyText(Story);
        var report = await ReportAsync(server, incident);

        var run = (await RunsAsync(server, incident, "report")).ShouldHaveSingleItem();
        var narrative = report.Narrative.ShouldNotBeNull();
        (narrative.AiWritten, narrative.Agent, narrative.RunId, narrative.Outcome, narrative.Text, narrative.Note).ShouldBe((true, "writer", run.Id, "completed", Story, (string?)null));
        (run.Actor, run.Outcome).ShouldBe(("ai:writer", "completed"));
        var request = model.Requests.ShouldHaveSingleItem();
        request.LastUserText.ShouldContain("# Incident report: backups on db-1 are late");
        request.ToolNames.ShouldNotContain(t => Acting.Contains(t));

        // Asked again with nothing new on the incident: the same narrative, no second run.
        var markdown = await MarkdownAsync(server, incident);
        markdown.ShouldContain("## Narrative (AI-written)");
        markdown.ShouldContain($"Written by AI agent writer in run `{run.Id}`");
        markdown.ShouldContain("No triage rule applies, so it waits for a person.");
        model.Requests.Count.ShouldBe(1);
        (await RunsAsync(server, incident, "report")).Count.ShouldBe(1);
        (await ReportAsync(server, incident)).Narrative!.RunId.ShouldBe(run.Id);
    }

    private static async Task<IncidentReport> ReportAsync(MedicServer server, string incident)
    {
        using var response = await server.Admin.GetAsync($"/api/v1/incidents/{incident}/report");
        return await response.ReadAsync(MedicJson.Default.IncidentReport);
    }

    private static async Task<string> MarkdownAsync(MedicServer server, string incident)
    {
        using var response = await server.Admin.GetAsync($"/api/v1/incidents/{incident}/report?format=markdown");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }
}
