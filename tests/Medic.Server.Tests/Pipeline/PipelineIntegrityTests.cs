using System.Net;
using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Pipeline;

/// <summary>
/// What keeps the pipeline honest: keys only the server may use, who may send an incident round
/// again, a person's "no" that sticks, verification of the incident's own signal, and an agent
/// that is reconnecting. Runs on both dialects against a real server; agents are real WebSocket
/// links (<see cref="WireAgent"/>) where a run must reach one.
/// </summary>
public sealed class PipelineIntegrityTests
{
    // The same recipe and triage rule as the pipeline API tests.
    private const string FixWeb = PipelineApiTests.FixWeb;
    private const string Rules = PipelineApiTests.Rules;

    internal static async Task<MedicServer> StartAsync(string dialect, Action<MedicOptions>? configure = null, bool enroll = true)
    {
        // No grace for an agent that never connects here (web-1 is enrolled only): its runs fail at once as unreachable.
        var server = await MedicServer.StartAsync(dialect, o =>
        {
            o.Pipeline.NodeGraceSeconds = 0;
            configure?.Invoke(o);
        });
        using var applied = await server.Admin.PostAsync("/api/v1/runbooks", Json.Raw(FixWeb, "application/yaml"));
        applied.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var rules = await server.Admin.PutAsync("/api/v1/pipeline/triage-rules", Json.Body(new TriageRulesRequest(Rules), MedicJson.Default.TriageRulesRequest));
        rules.StatusCode.ShouldBe(HttpStatusCode.OK);
        if (enroll)
        {
            using var token = await server.Admin.PostAsync("/api/v1/enrollment-tokens", Json.Raw("{}"));
            var secret = (await token.ReadAsync(MedicJson.Default.EnrollmentTokenCreatedResponse, HttpStatusCode.Created)).Secret;
            using var enrolled = await server.Client().PostAsync("/agent/v1/enroll", Json.Raw($$"""{"token":"{{secret}}","name":"web-1"}"""));
            enrolled.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        return server;
    }

    internal static async Task<string> OpenAsync(HttpClient client, string type = "web_down", string? unit = "nginx", string title = "web-1 is down")
    {
        var labels = unit is null ? null : new Dictionary<string, string> { ["unit"] = unit };
        using var response = await client.PostAsync("/api/v1/incidents", Json.Body(new CreateIncidentRequest(title, "critical", "web-1", null, type, labels), MedicJson.Default.CreateIncidentRequest));
        return (await response.ReadAsync(MedicJson.Default.IncidentResponse, HttpStatusCode.Created)).Id;
    }

    internal static async Task<IncidentDetailResponse> WaitForStatusAsync(HttpClient client, string id, string status, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
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

    internal static async Task<IReadOnlyList<RemediationResponse>> RemediationsAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/api/v1/incidents/{id}/remediations");
        return await response.ReadAsync(MedicJson.Default.IReadOnlyListRemediationResponse);
    }

    private static async Task<ApprovalResponse> PendingApprovalAsync(HttpClient reader, string incident)
    {
        using var list = await reader.GetAsync($"/api/v1/approvals?incident={incident}");
        return (await list.ReadAsync(MedicJson.Default.IReadOnlyListApprovalResponse)).ShouldHaveSingleItem();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_clients_idempotency_key_in_the_pipeline_namespace_is_refused_so_it_cannot_stand_in_for_a_remediations_run(string dialect)
    {
        await using var server = await StartAsync(dialect);
        var bob = await server.ClientForNewUserAsync(server.Admin, "bob", Role.Approver);
        var id = await OpenAsync(server.Admin, type: "manual", unit: null);
        using (var proposed = await server.Admin.PostAsync($"/api/v1/incidents/{id}/remediations", Json.Raw("""{"runbook":"fix-web","params":{"unit":"nginx"}}""")))
        {
            (await proposed.ReadAsync(MedicJson.Default.RemediationResponse, HttpStatusCode.Created)).Status.ToText().ShouldBe("awaiting_approval");
        }

        // The run key the pipeline will use for round 1, and spellings of it: each is refused before anything runs.
        foreach (var key in new[] { $"pipeline:{id}:1:run", $"PIPELINE:{id}:1:run", $"  pipeline:{id}:1:run", "medic:anything", "system:x" })
        {
            using var run = await server.Admin.PostAsync("/api/v1/runbooks/fix-web/runs", Json.Raw($$$"""{"idempotency_key":"{{{key}}}","selector":{"names":["web-1"]},"params":{"unit":"apache"}}"""));
            var problem = await run.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
            problem["errors"]!["idempotency_key"]!.ToString().ShouldContain("reserved for the server", customMessage: key);
        }

        using (var own = await server.Admin.PostAsync("/api/v1/runbooks/fix-web/runs", Json.Raw("""{"idempotency_key":"deploy-42:pipeline:x","selector":{"names":["web-1"]}}""")))
        {
            own.StatusCode.ShouldBe(HttpStatusCode.Accepted); // a client's own namespace is fine, whatever follows
        }

        var approval = await PendingApprovalAsync(bob, id);
        using (var approved = await bob.PostAsync($"/api/v1/approvals/{approval.Id}/approve", Json.Raw("{}")))
        {
            approved.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await WaitForStatusAsync(server.Admin, id, "escalated");
        var runId = (await RemediationsAsync(server.Admin, id)).ShouldHaveSingleItem().RunId!;
        using var runResponse = await server.Admin.GetAsync($"/api/v1/runbook-runs/{runId}");
        var remediationRun = await runResponse.ReadAsync(MedicJson.Default.RunbookRunResponse);
        (remediationRun.Actor, remediationRun.Params["unit"]).ShouldBe(("user:bob", "nginx"));
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Only_a_comment_from_someone_who_may_operate_sends_an_escalated_incident_through_the_pipeline_again(string dialect)
    {
        await using var server = await StartAsync(dialect);
        var vera = await server.ClientForNewUserAsync(server.Admin, "vera", Role.Viewer);
        var bob = await server.ClientForNewUserAsync(server.Admin, "bob", Role.Approver);
        var ann = await server.ClientForNewUserAsync(server.Admin, "ann", Role.Operator);
        var id = await OpenAsync(server.Admin, type: "manual", unit: null); // no rule: it stays open
        using (var escalate = await server.Admin.PostAsync($"/api/v1/incidents/{id}/remediations", Json.Raw("""{"runbook":"fix-web","params":{"unit":"nginx"}}""")))
        {
            escalate.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using (var reject = await bob.PostAsync($"/api/v1/approvals/{(await PendingApprovalAsync(bob, id)).Id}/reject", Json.Raw("""{"reason":"not now"}""")))
        {
            reject.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await WaitForStatusAsync(server.Admin, id, "escalated");
        foreach (var (who, client) in new[] { ("viewer", vera), ("approver", bob) })
        {
            using var comment = await client.PostAsync($"/api/v1/incidents/{id}/comments", Json.Raw($$"""{"text":"{{who}} says try again"}"""));
            (await comment.ReadAsync(MedicJson.Default.IncidentResponse)).Status.ToText().ShouldBe("escalated", who);
        }

        using (var comment = await ann.PostAsync($"/api/v1/incidents/{id}/comments", Json.Raw("""{"text":"operator says try again"}""")))
        {
            (await comment.ReadAsync(MedicJson.Default.IncidentResponse)).Status.ToText().ShouldBe("triaging");
        }

        var detail = await WaitForStatusAsync(server.Admin, id, "escalated");
        detail.Timeline.Where(e => e.Kind == "comment").Select(e => e.Actor).ShouldBe(["user:vera", "user:bob", "user:ann"]);
        detail.Timeline.Where(e => e.Kind == "triaging" && e.Actor.StartsWith("user:", StringComparison.Ordinal)).Select(e => e.Actor).ShouldBe(["user:ann"]);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_recipe_a_person_rejected_on_an_incident_is_never_run_again_there_without_a_new_approval(string dialect)
    {
        await using var server = await StartAsync(dialect);
        var bob = await server.ClientForNewUserAsync(server.Admin, "bob", Role.Approver);
        string windowId;
        using (var window = await server.Admin.PostAsync("/api/v1/change-windows", Json.Body(
            new ChangeWindowRequest(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1), "release"), MedicJson.Default.ChangeWindowRequest)))
        {
            windowId = (await window.ReadAsync(MedicJson.Default.ChangeWindowResponse, HttpStatusCode.Created)).Id;
        }

        // Round 1: the autonomous rule's fix waits (change window) and a person rejects it.
        var id = await OpenAsync(server.Admin);
        await WaitForStatusAsync(server.Admin, id, "awaiting_approval");
        using (var reject = await bob.PostAsync($"/api/v1/approvals/{(await PendingApprovalAsync(bob, id)).Id}/reject", Json.Raw("""{"reason":"restarting nginx drops the checkout sessions"}""")))
        {
            reject.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await WaitForStatusAsync(server.Admin, id, "escalated");
        using (var removed = await server.Admin.DeleteAsync($"/api/v1/change-windows/{windowId}"))
        {
            removed.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // Round 2 (a comment re-enters it): the same rule proposes the same fix, which the gate would let run alone; it waits for a person instead.
        using (var comment = await server.Admin.PostAsync($"/api/v1/incidents/{id}/comments", Json.Raw("""{"text":"sessions drained, look again"}""")))
        {
            comment.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var detail = await WaitForStatusAsync(server.Admin, id, "awaiting_approval");
        detail.Timeline.Last().Message.ShouldContain("a person rejected fix-web on this incident (round 1)");
        var rounds = await RemediationsAsync(server.Admin, id);
        rounds.Select(r => (r.Round, r.Gate, r.Status.ToText(), r.RunId)).ShouldBe([(1, "needs_approval", "rejected", (string?)null), (2, "needs_approval", "awaiting_approval", null)]);

        // Another incident is another matter: there the same fix runs on its own.
        var other = await OpenAsync(server.Admin, title: "web-1 is down again");
        (await WaitForStatusAsync(server.Admin, other, "escalated")).Timeline.Single(e => e.Kind == "executing").Message.ShouldContain("autonomous");
    }

    private const string CleanTmp = """
        name: clean-tmp
        version: 1
        description: Delete old files in /tmp.
        risk: low
        targets: incident
        steps:
          - name: delete old files
            run: [find, /tmp, -mtime, '+7', -delete]
          - name: no old file is left
            check:
              run: ['true']
        """;

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_fix_whose_own_check_passes_does_not_resolve_a_manual_incident_a_person_confirms_it(string dialect)
    {
        await using var server = await StartAsync(dialect, enroll: false);
        await using var agent = await WireAgent.EnrollAsync(server, "web-1");
        agent.AutoAnswer = task => WireAgent.Completed(task, 0);
        await agent.ConnectAsync(server);
        using (var applied = await server.Admin.PostAsync("/api/v1/runbooks", Json.Raw(CleanTmp, "application/yaml")))
        {
            applied.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var bob = await server.ClientForNewUserAsync(server.Admin, "bob", Role.Approver);
        var id = await OpenAsync(server.Admin, type: "manual", unit: null, title: "nginx 502s");
        using (var proposed = await server.Admin.PostAsync($"/api/v1/incidents/{id}/remediations", Json.Raw("""{"runbook":"clean-tmp"}""")))
        {
            proposed.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using (var approved = await bob.PostAsync($"/api/v1/approvals/{(await PendingApprovalAsync(bob, id)).Id}/approve", Json.Raw("{}")))
        {
            approved.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // The cleanup ran and its own check passed, but nothing shows the 502s are gone: the incident waits for a person, and says so.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IncidentDetailResponse detail;
        while (!(detail = await WaitForStatusAsync(server.Admin, id, "verifying")).Timeline.Any(e => e.Kind == "awaiting_confirmation"))
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "no waiting-for-confirmation event; timeline: " + string.Join(" | ", detail.Timeline.Select(e => e.Kind + ": " + e.Message)));
            await Task.Delay(50);
        }

        var waiting = detail.Timeline.Single(e => e.Kind == "awaiting_confirmation");
        waiting.Message.ShouldStartWith("waiting for confirmation: the recipe's check 'no old file is left' passed");
        waiting.Message.ShouldContain($"medic incidents resolve {id}");
        (await RemediationsAsync(server.Admin, id)).ShouldHaveSingleItem().Status.ToText().ShouldBe("awaiting_confirmation");

        using (var resolve = await server.Admin.PostAsync($"/api/v1/incidents/{id}/resolve", Json.Raw("""{"comment":"no 502s for ten minutes"}""")))
        {
            (await resolve.ReadAsync(MedicJson.Default.IncidentResponse)).Status.ToText().ShouldBe("resolved");
        }

        deadline = DateTime.UtcNow.AddSeconds(30);
        RemediationResponse remediation;
        while ((remediation = (await RemediationsAsync(server.Admin, id)).Single()).Status.ToText() != "succeeded")
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the confirmation was not taken as the verification");
            await Task.Delay(100);
        }

        remediation.Verification!.ShouldContain("confirmed by a person");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_alerts_incident_resolves_after_a_fix_only_when_the_alert_resolves_and_escalates_when_it_does_not_in_time(string dialect)
    {
        await using var server = await StartAsync(dialect, o => o.Pipeline.SignalWaitSeconds = 15, enroll: false);
        await using var agent = await WireAgent.EnrollAsync(server, "web-1");
        agent.AutoAnswer = task => WireAgent.Completed(task, 0);
        await agent.ConnectAsync(server);
        using var me = await server.Admin.GetAsync("/api/v1/whoami");
        var tenant = (await me.ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantId;
        var ingest = server.Service<Medic.Server.Incidents.IIncidentIngest>();
        Medic.Server.Incidents.IncidentSignal Signal(string fingerprint, bool resolved) => new(tenant, "generic", fingerprint, "web_down", "critical", "web-1 is down", null, null, "web-1",
            new Dictionary<string, string> { ["unit"] = "nginx" }, null, resolved, DateTimeOffset.UtcNow, "webhook:generic");

        var healed = (await ingest.IngestAsync([Signal("shop-down", false)], default)).Single().IncidentId!;
        var stuck = (await ingest.IngestAsync([Signal("blog-down", false)], default)).Single().IncidentId!;
        await WaitForStatusAsync(server.Admin, healed, "verifying");
        await WaitForStatusAsync(server.Admin, stuck, "verifying");

        // The fix ran and passed; the alert resolving is what resolves the incident.
        (await ingest.IngestAsync([Signal("shop-down", true)], default)).Single().Action.ToText().ShouldBe("noted");
        var resolved = await WaitForStatusAsync(server.Admin, healed, "resolved");
        resolved.Incident.Resolution!.ShouldContain("the generic alert reports the problem over");

        // The other alert never resolves: after the configured wait the incident goes to a person.
        var escalated = await WaitForStatusAsync(server.Admin, stuck, "escalated", seconds: 60);
        escalated.Timeline.Single(e => e.Kind == "failed").Message.ShouldContain("the generic alert still reports the problem 15 s later");
        (await RemediationsAsync(server.Admin, stuck)).Single().Status.ToText().ShouldBe("failed");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_remediation_queued_while_the_agent_reconnects_waits_for_it_instead_of_failing_offline(string dialect)
    {
        await using var server = await StartAsync(dialect, o => o.Pipeline.NodeGraceSeconds = 60, enroll: false);
        await using var agent = await WireAgent.EnrollAsync(server, "web-1");
        agent.AutoAnswer = task => WireAgent.Completed(task, 0);

        // The agent is away (the control plane just restarted, say): the autonomous fix is queued and waits for it.
        var id = await OpenAsync(server.Admin);
        await WaitForStatusAsync(server.Admin, id, "executing");
        await WaitForDeferralsAsync(server, "pipeline.execute", 3);
        var waiting = await WaitForStatusAsync(server.Admin, id, "executing");
        waiting.Timeline.ShouldNotContain(e => e.Kind == "remediation_started");

        await agent.ConnectAsync(server);
        var detail = await WaitForStatusAsync(server.Admin, id, "verifying");
        detail.Timeline.Select(e => e.Kind).ShouldContain("remediation_started");
        var runId = (await RemediationsAsync(server.Admin, id)).Single().RunId!;
        using var run = await server.Admin.GetAsync($"/api/v1/runbook-runs/{runId}");
        (await run.ReadAsync(MedicJson.Default.RunbookRunResponse)).Status.ToText().ShouldBe("succeeded");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_fix_that_could_not_reach_an_offline_agent_does_not_count_toward_the_circuit_breaker(string dialect)
    {
        await using var server = await StartAsync(dialect); // web-1 never connects; no grace

        foreach (var attempt in new[] { 1, 2, 3 })
        {
            var id = await OpenAsync(server.Admin, title: $"web-1 is down ({attempt})");
            var detail = await WaitForStatusAsync(server.Admin, id, "escalated");
            detail.Timeline.Single(e => e.Kind == "failed").Message.ShouldContain("offline");
            var remediation = (await RemediationsAsync(server.Admin, id)).ShouldHaveSingleItem();
            (remediation.Gate, remediation.Status.ToText()).ShouldBe(("auto_run", "unreachable"), $"attempt {attempt}");
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task With_20_long_remediation_runs_in_flight_a_new_incident_is_still_triaged_and_notified_promptly(string dialect)
    {
        await using var receiver = await Notifications.RecordingReceiver.StartAsync();
        await using var server = await StartAsync(dialect, enroll: false);
        await using var agent = await WireAgent.EnrollAsync(server, "web-1"); // takes every task and never answers: 20 runs stay in flight
        await agent.ConnectAsync(server);
        using (var settings = await server.Admin.PutAsync("/api/v1/pipeline/settings", Json.Raw("""{"blast_radius_per_hour":100}""")))
        {
            settings.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        for (var n = 1; n <= 20; n++) await OpenAsync(server.Admin, title: $"web-1 is down ({n})");
        for (var n = 1; n <= 20; n++) await agent.NextTaskAsync(seconds: 120);

        using (var hook = await server.Admin.PostAsync("/api/v1/notification-channels", Json.Raw($$"""{"name":"hook","kind":"webhook","url":"{{receiver.Address}}hook"}""")))
        {
            hook.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using (var rule = await server.Admin.PostAsync("/api/v1/notification-rules", Json.Raw("""{"name":"people","channels":["hook"],"events":["opened"]}""")))
        {
            rule.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        var id = await OpenAsync(server.Admin, type: "manual", unit: null, title: "checkout is slow");
        var sent = (await receiver.WaitForAsync(1)).ShouldHaveSingleItem().Json;
        sent.GetProperty("incident").GetProperty("id").GetString().ShouldBe(id);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await WaitForStatusAsync(server.Admin, id, "open")).Timeline.Any(e => e.Kind == "triage"))
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the new incident was not triaged while 20 runs were in flight");
            await Task.Delay(50);
        }

        started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15));

        // The agent goes away: the 20 runs end (offline) before the server stops.
        await agent.CloseAsync();
        await server.Service<Medic.Server.Runbooks.RunbookRunner>().DrainAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Waits until the job of <paramref name="kind"/> has put itself off <paramref name="times"/> times
    /// (each deferral moves its run_after): the signal that it looked and kept waiting, instead of a sleep.
    /// </summary>
    private static async Task WaitForDeferralsAsync(MedicServer server, string kind, int times)
    {
        var seen = new HashSet<DateTimeOffset>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (seen.Count < times)
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"the {kind} job was not deferred {times} times");
            foreach (var at in await server.Database.QueryAsync<DateTimeOffset>("SELECT run_after FROM jobs WHERE kind = @kind AND status = 'pending'", new { kind }))
            {
                seen.Add(at);
            }

            await Task.Delay(50);
        }
    }
}
