using System.Net;
using Dapper;
using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Runbooks;
using Medic.Server.Storage;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Pipeline;

/// <summary>
/// The remediation pipeline through the API, on both dialects: the risk gate's outcomes, approvals
/// (never one's own, 409 once decided or expired), rejection, the circuit breaker, change windows,
/// automation off, comments re-entering, and bad input. The server enrolled here never connects and
/// the grace period for its agent is 0, so every run fails at once as unreachable ("offline"): the
/// failure path is real; the success path runs in the end-to-end PipelineTests with a real agent.
/// </summary>
public sealed class PipelineApiTests
{
    internal const string FixWeb = """
        name: fix-web
        version: 1
        description: Restart the web tier.
        risk: low
        remediates:
          types: [web_down]
        parameters:
          unit: {type: string, pattern: '[a-z]+', default: nginx}
        targets: incident
        steps:
          - run: [systemctl, restart, '${{ params.unit }}']
        """;

    internal const string Rules = """
        rules:
          - name: web-down
            match: {type: web_down}
            recipe: fix-web
            params: {unit: "${labels.unit}"}
            trust: autonomous
        """;

    private static async Task<MedicServer> StartAsync(string dialect, bool enrollWeb1 = true)
    {
        var server = await MedicServer.StartAsync(dialect, o => o.Pipeline.NodeGraceSeconds = 0);
        using var applied = await server.Admin.PostAsync("/api/v1/runbooks", Json.Raw(FixWeb, "application/yaml"));
        applied.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var rules = await server.Admin.PutAsync("/api/v1/pipeline/triage-rules", Json.Body(new TriageRulesRequest(Rules), MedicJson.Default.TriageRulesRequest));
        rules.StatusCode.ShouldBe(HttpStatusCode.OK);
        if (!enrollWeb1) return server;
        using var token = await server.Admin.PostAsync("/api/v1/enrollment-tokens", Json.Raw("{}"));
        var secret = (await token.ReadAsync(MedicJson.Default.EnrollmentTokenCreatedResponse, HttpStatusCode.Created)).Secret;
        using var enroll = await server.Client().PostAsync("/agent/v1/enroll", Json.Raw($$"""{"token":"{{secret}}","name":"web-1"}"""));
        enroll.StatusCode.ShouldBe(HttpStatusCode.OK);
        return server;
    }

    private static async Task<string> OpenAsync(HttpClient client, string type = "web_down", string? unit = "nginx")
    {
        var labels = unit is null ? null : new Dictionary<string, string> { ["unit"] = unit };
        using var response = await client.PostAsync("/api/v1/incidents", Json.Body(new CreateIncidentRequest("web-1 is down", "critical", "web-1", null, type, labels), MedicJson.Default.CreateIncidentRequest));
        return (await response.ReadAsync(MedicJson.Default.IncidentResponse, HttpStatusCode.Created)).Id;
    }

    private static async Task<IncidentDetailResponse> WaitForStatusAsync(HttpClient client, string id, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await client.GetAsync($"/api/v1/incidents/{id}");
            var detail = await response.ReadAsync(MedicJson.Default.IncidentDetailResponse);
            if (detail.Incident.Status.ToText() == status) return detail;
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"incident {id} is {detail.Incident.Status}, not {status}; timeline: " +
                string.Join(" | ", detail.Timeline.Select(e => $"{e.Kind} by {e.Actor}: {e.Message}")));
            await Task.Delay(50);
        }
    }

    private static async Task<IReadOnlyList<RemediationResponse>> RemediationsAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/api/v1/incidents/{id}/remediations");
        return await response.ReadAsync(MedicJson.Default.IReadOnlyListRemediationResponse);
    }

    private static async Task<ApprovalResponse> ProposeForApprovalAsync(HttpClient proposer, HttpClient reader, string incident)
    {
        using var proposed = await proposer.PostAsync($"/api/v1/incidents/{incident}/remediations", Json.Raw("""{"runbook":"fix-web","params":{"unit":"nginx"}}"""));
        var remediation = await proposed.ReadAsync(MedicJson.Default.RemediationResponse, HttpStatusCode.Created);
        remediation.Status.ToText().ShouldBe("awaiting_approval");
        using var list = await reader.GetAsync($"/api/v1/approvals?incident={incident}");
        return (await list.ReadAsync(MedicJson.Default.IReadOnlyListApprovalResponse)).ShouldHaveSingleItem();
    }

    private static async Task<List<string>> AuditActionsAsync(MedicServer server, string target)
    {
        using var audit = await server.Admin.GetAsync("/api/v1/audit?limit=500");
        return (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.Where(e => e.Target == target).Select(e => e.Action).Reverse().ToList();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_autonomous_low_recipe_runs_without_approval_and_two_failures_open_the_circuit_breaker(string dialect)
    {
        await using var server = await StartAsync(dialect, enrollWeb1: false);
        await using var agent = await WireAgent.EnrollAsync(server, "web-1");
        agent.AutoAnswer = task => new Contracts.Agent.TaskResult(task.TaskId, Contracts.Agent.TaskStatus.Completed, 1, 5, false, null);
        await agent.ConnectAsync(server);

        // Twice: triage proposes fix-web, the gate lets it run, the run fails (its command exits 1), the incident escalates.
        foreach (var attempt in new[] { 1, 2 })
        {
            var id = await OpenAsync(server.Admin);
            var detail = await WaitForStatusAsync(server.Admin, id, "escalated");
            detail.Timeline.Select(e => e.Kind).ShouldBe(["opened", "triaging", "recipe_proposed", "executing", "remediation_started", "failed", "escalated"], $"attempt {attempt}");
            detail.Timeline.Single(e => e.Kind == "recipe_proposed").Actor.ShouldBe("rule:web-down");
            detail.Timeline.Single(e => e.Kind == "executing").Message.ShouldContain("low risk, autonomous actor, within limits");
            detail.Timeline.Single(e => e.Kind == "failed").Message.ShouldContain("failed");
            var remediation = (await RemediationsAsync(server.Admin, id)).ShouldHaveSingleItem();
            (remediation.Runbook, remediation.Gate, remediation.Status.ToText(), remediation.ProposedBy, remediation.Params["unit"]).ShouldBe(("fix-web", "auto_run", "failed", "rule:web-down", "nginx"));
            remediation.RunId.ShouldNotBeNull();
            var actions = await AuditActionsAsync(server, "incident:" + id);
            actions.ShouldBe(["incident.create", "incident.triaging", "incident.recipe_proposed", "incident.executing", "incident.failed", "incident.escalated"]);
        }

        // The third: the same recipe failed twice on web-1 within 24 h, so the gate escalates without running it.
        var third = await OpenAsync(server.Admin);
        var last = await WaitForStatusAsync(server.Admin, third, "escalated");
        last.Timeline.Last().Message.ShouldContain("circuit breaker");
        var blocked = (await RemediationsAsync(server.Admin, third)).ShouldHaveSingleItem();
        (blocked.Gate, blocked.Status.ToText(), blocked.RunId).ShouldBe(("escalate", "escalated", (string?)null));
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_rules_diagnosis_runs_read_only_verbs_on_the_server_and_puts_what_they_found_on_the_timeline_before_the_proposal(string dialect)
    {
        await using var server = await StartAsync(dialect);
        using (var rules = await server.Admin.PutAsync("/api/v1/pipeline/triage-rules", Json.Body(new TriageRulesRequest(Rules + "\n" + """
              - name: disk
                match: {type: disk_full}
                recipe: fix-web
                trust: supervised
                diagnose:
                  - {verb: disk, args: {}}
                  - {verb: service-status, args: {unit: "${labels.unit}"}}
                  - {verb: journal, args: {unit: "${labels.missing}"}}
            """), MedicJson.Default.TriageRulesRequest)))
        {
            var listed = await rules.ReadAsync(MedicJson.Default.TriageRulesResponse);
            listed.Rules.Single(r => r.Name == "disk").Diagnose.ShouldBe(["disk", "service-status unit=${labels.unit}", "journal unit=${labels.missing}"]);
        }

        var id = await OpenAsync(server.Admin, type: "disk_full");
        var detail = await WaitForStatusAsync(server.Admin, id, "awaiting_approval");
        detail.Timeline.Select(e => e.Kind).ShouldBe(["opened", "triaging", "diagnosing", "evidence", "evidence", "recipe_proposed", "awaiting_approval"]);
        var evidence = detail.Timeline.Where(e => e.Kind == "evidence").ToList();
        (evidence[0].Data!["verb"], evidence[0].Data!["status"], evidence[0].Actor).ShouldBe(("disk", "offline", "rule:disk"));
        (evidence[1].Data!["verb"], evidence[1].Data!["arg.unit"]).ShouldBe(("service-status", "nginx"));
        evidence[1].Message.ShouldBe("service-status on web-1: offline"); // the enrolled server never connects
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_persons_proposal_waits_for_another_approver_and_a_decided_request_cannot_be_decided_again(string dialect)
    {
        await using var server = await StartAsync(dialect);
        var bob = await server.ClientForNewUserAsync(server.Admin, "bob", Role.Approver);
        var ann = await server.ClientForNewUserAsync(server.Admin, "ann", Role.Operator);
        var id = await OpenAsync(server.Admin, type: "manual", unit: null); // no rule matches: it stays open
        var approval = await ProposeForApprovalAsync(server.Admin, bob, id);
        (approval.Status.ToText(), approval.RequestedBy, approval.Risk, approval.Runbook, approval.Server).ShouldBe(("pending", "user:admin", "low", "fix-web", "web-1"));
        approval.Reason.ShouldContain("supervised");
        approval.Plan.ShouldHaveSingleItem().Argv.ShouldBe(["systemctl", "restart", "nginx"]);
        approval.Link.ShouldEndWith("/approvals/" + approval.Id);
        (await WaitForStatusAsync(server.Admin, id, "awaiting_approval")).Timeline.Last().Message.ShouldContain(approval.Id);

        using (var own = await server.Admin.PostAsync($"/api/v1/approvals/{approval.Id}/approve", Json.Raw("{}")))
        {
            (await own.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("nobody approves their own request");
        }

        using (var operatorTries = await ann.PostAsync($"/api/v1/approvals/{approval.Id}/approve", Json.Raw("{}")))
        {
            operatorTries.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        using (var approved = await bob.PostAsync($"/api/v1/approvals/{approval.Id}/approve", Json.Raw("""{"comment":"go ahead"}""")))
        {
            var a = await approved.ReadAsync(MedicJson.Default.ApprovalResponse);
            (a.Status.ToText(), a.DecidedBy, a.Comment).ShouldBe(("approved", "user:bob", "go ahead"));
        }

        using (var again = await bob.PostAsync($"/api/v1/approvals/{approval.Id}/reject", Json.Raw("""{"reason":"changed my mind"}""")))
        {
            (await again.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("already approved");
        }

        var detail = await WaitForStatusAsync(server.Admin, id, "escalated");
        detail.Timeline.Single(e => e.Kind == "executing").Actor.ShouldBe("user:bob");
        (await AuditActionsAsync(server, "approval:" + approval.Id)).ShouldBe(["approval.request", "approval.approve"]);
        var run = (await RemediationsAsync(server.Admin, id)).ShouldHaveSingleItem().RunId!;
        using var runResponse = await server.Admin.GetAsync($"/api/v1/runbook-runs/{run}");
        (await runResponse.ReadAsync(MedicJson.Default.RunbookRunResponse)).Actor.ShouldBe("user:bob");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_rejected_or_expired_approval_escalates_the_incident_and_nothing_runs(string dialect)
    {
        await using var server = await StartAsync(dialect);
        var bob = await server.ClientForNewUserAsync(server.Admin, "bob", Role.Approver);

        var rejectedIncident = await OpenAsync(server.Admin, type: "manual", unit: null);
        var rejected = await ProposeForApprovalAsync(server.Admin, bob, rejectedIncident);
        using (var noReason = await bob.PostAsync($"/api/v1/approvals/{rejected.Id}/reject", Json.Raw("{}")))
        {
            (await noReason.ShouldBeProblemAsync(HttpStatusCode.BadRequest))["errors"]!["reason"].ShouldNotBeNull();
        }

        using (var reject = await bob.PostAsync($"/api/v1/approvals/{rejected.Id}/reject", Json.Raw("""{"reason":"not during the sale"}""")))
        {
            (await reject.ReadAsync(MedicJson.Default.ApprovalResponse)).Status.ToText().ShouldBe("rejected");
        }

        var escalated = await WaitForStatusAsync(server.Admin, rejectedIncident, "escalated");
        escalated.Timeline.Last().Message.ShouldContain("not during the sale");
        var remediation = (await RemediationsAsync(server.Admin, rejectedIncident)).ShouldHaveSingleItem();
        (remediation.Status.ToText(), remediation.RunId).ShouldBe(("rejected", (string?)null));

        // Expiry: the clock is the database's; move the request's deadline (and its expiry job) into the past.
        var expiringIncident = await OpenAsync(server.Admin, type: "manual", unit: null);
        var expiring = await ProposeForApprovalAsync(server.Admin, bob, expiringIncident);
        var db = server.Service<Database>();
        await db.WriteAsync(async (c, tx) =>
        {
            var past = DateTimeOffset.UtcNow.AddMinutes(-1);
            await c.ExecuteAsync("UPDATE approvals SET expires_at = @past WHERE id = @id", new { past, id = expiring.Id }, tx);
            await c.ExecuteAsync("UPDATE jobs SET run_after = @past WHERE idempotency_key = @key", new { past, key = $"pipeline:approval:{expiring.Id}:expire" }, tx);
        });
        using (var late = await bob.PostAsync($"/api/v1/approvals/{expiring.Id}/approve", Json.Raw("{}")))
        {
            (await late.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("expired");
        }

        server.Service<JobWorker>().Wake();
        (await WaitForStatusAsync(server.Admin, expiringIncident, "escalated")).Timeline.Last().Message.ShouldContain("expired unanswered");
        using var decided = await bob.GetAsync($"/api/v1/approvals/{expiring.Id}");
        (await decided.ReadAsync(MedicJson.Default.ApprovalResponse)).Status.ToText().ShouldBe("expired");
        using var pending = await bob.GetAsync("/api/v1/approvals");
        (await pending.ReadAsync(MedicJson.Default.IReadOnlyListApprovalResponse)).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Approval_requests_and_escalations_reach_the_rules_channels_with_a_link_to_the_approval(string dialect)
    {
        await using var receiver = await Notifications.RecordingReceiver.StartAsync();
        await using var server = await StartAsync(dialect);
        var bob = await server.ClientForNewUserAsync(server.Admin, "bob", Role.Approver);
        using (var hook = await server.Admin.PostAsync("/api/v1/notification-channels", Json.Raw($$"""{"name":"hook","kind":"webhook","url":"{{receiver.Address}}hook"}""")))
        {
            hook.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using (var rule = await server.Admin.PostAsync("/api/v1/notification-rules", Json.Raw("""{"name":"people","channels":["hook"],"events":["approval_requested","escalated"]}""")))
        {
            rule.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var id = await OpenAsync(server.Admin, type: "manual", unit: null);
        var approval = await ProposeForApprovalAsync(server.Admin, bob, id);
        var asked = (await receiver.WaitForAsync(1)).ShouldHaveSingleItem().Json;
        asked.GetProperty("event").GetString().ShouldBe("approval_requested");
        asked.GetProperty("link").GetString().ShouldBe($"{server.BaseAddress.ToString().TrimEnd('/')}/approvals/{approval.Id}");

        using (var reject = await bob.PostAsync($"/api/v1/approvals/{approval.Id}/reject", Json.Raw("""{"reason":"wrong server"}""")))
        {
            reject.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var escalated = (await receiver.WaitForAsync(2))[1].Json;
        escalated.GetProperty("event").GetString().ShouldBe("escalated");
        escalated.GetProperty("incident").GetProperty("id").GetString().ShouldBe(id);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_change_window_or_automation_off_makes_even_an_autonomous_low_recipe_wait_for_a_person(string dialect)
    {
        await using var server = await StartAsync(dialect);
        using (var window = await server.Admin.PostAsync("/api/v1/change-windows", Json.Body(
            new ChangeWindowRequest(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1), "release 4.2"), MedicJson.Default.ChangeWindowRequest)))
        {
            var w = await window.ReadAsync(MedicJson.Default.ChangeWindowResponse, HttpStatusCode.Created);
            w.Active.ShouldBeTrue();
            var inWindow = await OpenAsync(server.Admin);
            (await WaitForStatusAsync(server.Admin, inWindow, "awaiting_approval")).Timeline.Last().Message.ShouldContain("change window");
            using var removed = await server.Admin.DeleteAsync($"/api/v1/change-windows/{w.Id}");
            removed.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var off = await server.Admin.PutAsync("/api/v1/pipeline/settings", Json.Raw("""{"automation":false}""")))
        {
            (await off.ReadAsync(MedicJson.Default.PipelineSettingsResponse)).Automation.ShouldBeFalse();
        }

        var whileOff = await OpenAsync(server.Admin);
        (await WaitForStatusAsync(server.Admin, whileOff, "awaiting_approval")).Timeline.Last().Message.ShouldContain("automation is off");
        using var me = await server.Admin.GetAsync("/api/v1/whoami");
        var tenant = (await me.ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantId;
        (await AuditActionsAsync(server, "tenant:" + tenant)).ShouldContain("pipeline.settings");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_comment_on_an_escalated_incident_sends_it_through_the_pipeline_again(string dialect)
    {
        await using var server = await StartAsync(dialect);
        var id = await OpenAsync(server.Admin);
        await WaitForStatusAsync(server.Admin, id, "escalated");
        using (var comment = await server.Admin.PostAsync($"/api/v1/incidents/{id}/comments", Json.Raw("""{"text":"nginx config fixed by hand, try again"}""")))
        {
            comment.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // Round 2 proposes fix-web again; it fails again (offline), so the incident is back with a person.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<RemediationResponse> rounds;
        while ((rounds = await RemediationsAsync(server.Admin, id)).Count < 2 || rounds[1].Status.ToText() != "unreachable")
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the second round did not finish");
            await Task.Delay(50);
        }

        rounds.Select(r => r.Round).ShouldBe([1, 2]);
        var detail = await WaitForStatusAsync(server.Admin, id, "escalated");
        var reentry = detail.Timeline.First(e => e.Kind == "triaging" && e.Actor == "user:admin");
        reentry.Data!["comment"].ShouldBe("nginx config fixed by hand, try again");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_problem_that_fires_again_after_resolving_reopens_into_a_new_pipeline_round(string dialect)
    {
        await using var server = await StartAsync(dialect);
        using var me = await server.Admin.GetAsync("/api/v1/whoami");
        var tenant = (await me.ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantId;
        var ingest = server.Service<Medic.Server.Incidents.IIncidentIngest>();
        Medic.Server.Incidents.IncidentSignal Signal(bool resolved) => new(tenant, "generic", "web-1-down", "web_down", "critical", "web-1 is down", null, null, "web-1",
            new Dictionary<string, string> { ["unit"] = "nginx" }, null, resolved, DateTimeOffset.UtcNow, "webhook:generic");

        var id = (await ingest.IngestAsync([Signal(false)], default)).Single().IncidentId!;
        await WaitForStatusAsync(server.Admin, id, "escalated");
        (await ingest.IngestAsync([Signal(true)], default)).Single().Action.ToText().ShouldBe("resolved");
        (await ingest.IngestAsync([Signal(false)], default)).Single().ShouldBe(new Medic.Server.Incidents.IngestOutcome(id, Medic.Server.Incidents.IngestAction.Reopened));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<RemediationResponse> rounds;
        while ((rounds = await RemediationsAsync(server.Admin, id)).Count < 2 || rounds[1].Status.ToText() != "unreachable")
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the reopened incident's round did not run");
            await Task.Delay(50);
        }

        rounds.Select(r => (r.Round, r.Gate)).ShouldBe([(1, "auto_run"), (2, "auto_run")]);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Bad_proposals_rules_settings_and_windows_are_refused_with_a_reason_and_change_nothing(string dialect)
    {
        await using var server = await StartAsync(dialect);
        var id = await OpenAsync(server.Admin, type: "manual", unit: null);

        using (var badParam = await server.Admin.PostAsync($"/api/v1/incidents/{id}/remediations", Json.Raw("""{"runbook":"fix-web","params":{"unit":"nginx; rm -rf /"}}""")))
        {
            (await badParam.ShouldBeProblemAsync(HttpStatusCode.BadRequest))["errors"]!["params.unit"].ShouldNotBeNull();
        }

        using (var unknown = await server.Admin.PostAsync($"/api/v1/incidents/{id}/remediations", Json.Raw("""{"runbook":"no-such-recipe"}""")))
        {
            (await unknown.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail().ShouldContain("No runbook 'no-such-recipe'");
        }

        using (var missing = await server.Admin.PostAsync("/api/v1/incidents/inc_nope/remediations", Json.Raw("""{"runbook":"fix-web"}""")))
        {
            missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        (await RemediationsAsync(server.Admin, id)).ShouldBeEmpty();

        using (var rules = await server.Admin.PutAsync("/api/v1/pipeline/triage-rules", Json.Raw("""{"yaml":"rules:\n  - name: x\n    match: {type: a}\n    recipe: fix-web\n    trust: reckless\n"}""")))
        {
            (await rules.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("line 5, column 12");
        }

        using (var current = await server.Admin.GetAsync("/api/v1/pipeline/triage-rules"))
        {
            var r = await current.ReadAsync(MedicJson.Default.TriageRulesResponse);
            r.TenantYaml.ShouldBe(Rules);
            r.Rules[0].Name.ShouldBe("web-down");
            r.Rules.ShouldContain(x => x.Origin == "builtin" && x.Recipe == "restart-service");
            r.Rules[0].Warnings.ShouldBe(["rule 'web-down', param 'unit': '${labels.unit}' is the old reference syntax; write '${{ labels.unit }}' (it is still read for now)"]);
            r.Rules.Where(x => x.Origin == "builtin").ShouldAllBe(x => x.Warnings == null);
        }

        using (var settings = await server.Admin.PutAsync("/api/v1/pipeline/settings", Json.Raw("""{"approval_ttl_seconds":5,"blast_radius_per_hour":-1}""")))
        {
            var problem = await settings.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
            problem["errors"]!["approval_ttl_seconds"].ShouldNotBeNull();
            problem["errors"]!["blast_radius_per_hour"].ShouldNotBeNull();
        }

        using (var window = await server.Admin.PostAsync("/api/v1/change-windows", Json.Raw("""{"starts_at":"2099-01-02T00:00:00Z","ends_at":"2099-01-01T00:00:00Z","reason":"x"}""")))
        {
            (await window.ShouldBeProblemAsync(HttpStatusCode.BadRequest))["errors"]!["ends_at"].ShouldNotBeNull();
        }

        using (var notAnApproval = await server.Admin.PostAsync("/api/v1/approvals/apr_nope/approve", Json.Raw("{}")))
        {
            notAnApproval.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        using var defaults = await server.Admin.GetAsync("/api/v1/pipeline/settings");
        var s = await defaults.ReadAsync(MedicJson.Default.PipelineSettingsResponse);
        (s.Automation, s.BlastRadiusPerHour, s.ApprovalTtlSeconds, s.CustomTriageRules).ShouldBe((true, 10, 3600, true));
    }
}
