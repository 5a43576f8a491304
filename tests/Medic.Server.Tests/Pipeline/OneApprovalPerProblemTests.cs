using System.Net;
using System.Text;
using Dapper;
using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Storage;
using Medic.Server.Tests.Detection.Webhooks;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Pipeline;

/// <summary>
/// An alert that fires, resolves and fires again (a certificate check, a flapping probe) reopens its
/// incident into a new pipeline round each time; each round proposes the same supervised recipe.
/// People are asked once: the pending approval is renewed, not multiplied.
/// </summary>
public sealed class OneApprovalPerProblemTests
{
    private const string SupervisedRules = """
        rules:
          - name: web-down
            match: {type: web_down}
            recipe: fix-web
            params: {unit: "${{ labels.unit }}"}
            trust: supervised
        """;

    private static async Task<MedicServer> StartAsync(string dialect)
    {
        var server = await MedicServer.StartAsync(dialect, o => o.Pipeline.NodeGraceSeconds = 0);
        using var applied = await server.Admin.PostAsync("/api/v1/runbooks", Json.Raw(PipelineApiTests.FixWeb, "application/yaml"));
        applied.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var rules = await server.Admin.PutAsync("/api/v1/pipeline/triage-rules", Json.Body(new TriageRulesRequest(SupervisedRules), MedicJson.Default.TriageRulesRequest));
        rules.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var token = await server.Admin.PostAsync("/api/v1/enrollment-tokens", Json.Raw("{}"));
        var secret = (await token.ReadAsync(MedicJson.Default.EnrollmentTokenCreatedResponse, HttpStatusCode.Created)).Secret;
        using var enroll = await server.Client().PostAsync("/agent/v1/enroll", Json.Raw($$"""{"token":"{{secret}}","name":"web-1"}"""));
        enroll.StatusCode.ShouldBe(HttpStatusCode.OK);
        return server;
    }

    /// <summary>The alert as a generic webhook sends it; <c>medic_type</c> gives it the type the triage rule matches.</summary>
    private static async Task<string> DeliverAsync(MedicServer server, bool resolved, string unit)
    {
        var credentials = await WebhookSender.CredentialsAsync(server.Admin);
        var status = resolved ? "resolved" : "firing";
        var body = $$$"""{"alerts":[{"fingerprint":"web-1-down","status":"{{{status}}}","title":"web-1 does not answer","severity":"critical","server":"web-1","labels":{"medic_type":"web_down","unit":"{{{unit}}}"}}]}""";
        using var request = WebhookSender.Bearer("default", "generic", Encoding.UTF8.GetBytes(body), credentials.BearerToken);
        using var response = await server.Client().SendAsync(request);
        return (await response.ReadAsync(MedicJson.Default.WebhookDeliveryResponse)).Incidents.ShouldHaveSingleItem();
    }

    private static async Task<IncidentDetailResponse> WaitForAsync(HttpClient client, string id, string status, int round)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await client.GetAsync($"/api/v1/incidents/{id}");
            var detail = await response.ReadAsync(MedicJson.Default.IncidentDetailResponse);
            using var rems = await client.GetAsync($"/api/v1/incidents/{id}/remediations");
            var rounds = await rems.ReadAsync(MedicJson.Default.IReadOnlyListRemediationResponse);
            if (detail.Incident.Status.ToText() == status && (status == "resolved" || rounds.Count >= round)) return detail;
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"incident {id} is {detail.Incident.Status}, not {status} in round {round}; timeline: " +
                string.Join(" | ", detail.Timeline.Select(e => $"{e.Kind}: {e.Message}")));
            await Task.Delay(50);
        }
    }

    private static async Task<IReadOnlyList<ApprovalResponse>> ApprovalsAsync(HttpClient client, string incident, string status = "")
    {
        using var list = await client.GetAsync($"/api/v1/approvals?incident={incident}" + (status.Length == 0 ? "&status=all" : "&status=" + status));
        return await list.ReadAsync(MedicJson.Default.IReadOnlyListApprovalResponse);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_alert_that_fires_five_times_asks_for_one_approval_and_renews_it(string dialect)
    {
        await using var server = await StartAsync(dialect);
        var bob = await server.ClientForNewUserAsync(server.Admin, "bob", Role.Approver);

        var id = await DeliverAsync(server, resolved: false, "nginx");
        await WaitForAsync(server.Admin, id, "awaiting_approval", 1);
        var first = (await ApprovalsAsync(bob, id)).ShouldHaveSingleItem();
        for (var round = 2; round <= 5; round++)
        {
            await DeliverAsync(server, resolved: true, "nginx");
            await WaitForAsync(server.Admin, id, "resolved", round - 1);
            await DeliverAsync(server, resolved: false, "nginx");
            await WaitForAsync(server.Admin, id, "awaiting_approval", round);
        }

        var approval = (await ApprovalsAsync(bob, id)).ShouldHaveSingleItem();
        (approval.Id, approval.Status.ToText(), approval.Params["unit"]).ShouldBe((first.Id, "pending", "nginx"));
        approval.ExpiresAt.ShouldBeGreaterThanOrEqualTo(first.ExpiresAt);
        using (var rems = await server.Admin.GetAsync($"/api/v1/incidents/{id}/remediations"))
        {
            var rounds = await rems.ReadAsync(MedicJson.Default.IReadOnlyListRemediationResponse);
            rounds.Select(r => r.Status.ToText()).ShouldBe(["cancelled", "cancelled", "cancelled", "cancelled", "awaiting_approval"]);
            rounds.Take(4).ShouldAllBe(r => r.Error!.Contains("carries over"));
        }

        var detail = await WaitForAsync(server.Admin, id, "awaiting_approval", 5);
        detail.Timeline.Last().Message.ShouldContain($"approval {first.Id}, asked for earlier for the same recipe and parameters, still waits");

        // The one approval decides the current round: it runs (and fails here: the server's agent never connects).
        using (var approved = await bob.PostAsync($"/api/v1/approvals/{first.Id}/approve", Json.Raw("{}")))
        {
            (await approved.ReadAsync(MedicJson.Default.ApprovalResponse)).Status.ToText().ShouldBe("approved");
        }

        using (var rems = await server.Admin.GetAsync($"/api/v1/incidents/{id}/remediations"))
        {
            (await rems.ReadAsync(MedicJson.Default.IReadOnlyListRemediationResponse)).Last().Status.ToText().ShouldNotBe("awaiting_approval");
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_different_proposal_supersedes_the_waiting_approval_and_an_expired_one_says_so(string dialect)
    {
        await using var server = await StartAsync(dialect);
        var bob = await server.ClientForNewUserAsync(server.Admin, "bob", Role.Approver);

        var id = await DeliverAsync(server, resolved: false, unit: "nginx");
        await WaitForAsync(server.Admin, id, "awaiting_approval", 1);
        var nginx = (await ApprovalsAsync(bob, id)).ShouldHaveSingleItem();
        await DeliverAsync(server, resolved: true, unit: "nginx");
        await WaitForAsync(server.Admin, id, "resolved", 1);
        // Meanwhile the rule was changed to restart another unit: the alert comes back, and a different request is made for the same incident.
        using (var rules = await server.Admin.PutAsync("/api/v1/pipeline/triage-rules",
            Json.Body(new TriageRulesRequest(SupervisedRules.Replace("\"${{ labels.unit }}\"", "apache", StringComparison.Ordinal)), MedicJson.Default.TriageRulesRequest)))
        {
            rules.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await DeliverAsync(server, resolved: false, unit: "nginx");
        var detail = await WaitForAsync(server.Admin, id, "awaiting_approval", 2);

        var approvals = await ApprovalsAsync(bob, id);
        approvals.Count.ShouldBe(2);
        var superseded = approvals.Single(a => a.Id == nginx.Id);
        (superseded.Status.ToText(), superseded.Comment).ShouldBe(("superseded", "superseded by the proposal of fix-web v1 (unit=apache) in round 2"));
        var apache = approvals.Single(a => a.Id != nginx.Id);
        (apache.Status.ToText(), apache.Params["unit"]).ShouldBe(("pending", "apache"));
        detail.Timeline.ShouldContain(e => e.Kind == "approval_superseded" && e.Message.Contains(nginx.Id));
        using (var late = await bob.PostAsync($"/api/v1/approvals/{nginx.Id}/approve", Json.Raw("{}")))
        {
            (await late.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("superseded");
        }

        // Nobody decides in time: the request expires, says so, and the incident is escalated.
        var db = server.Service<Database>();
        await db.WriteAsync(async (c, tx) =>
        {
            var past = DateTimeOffset.UtcNow.AddMinutes(-1);
            await c.ExecuteAsync("UPDATE approvals SET expires_at = @past WHERE id = @id", new { past, id = apache.Id }, tx);
            await c.ExecuteAsync("UPDATE jobs SET run_after = @past WHERE idempotency_key = @key", new { past, key = $"pipeline:approval:{apache.Id}:expire" }, tx);
        });
        server.Service<JobWorker>().Wake();
        await WaitForAsync(server.Admin, id, "escalated", 2);
        using var expired = await bob.GetAsync($"/api/v1/approvals/{apache.Id}");
        var read = await expired.ReadAsync(MedicJson.Default.ApprovalResponse);
        read.Status.ToText().ShouldBe("expired");
        read.Comment.ShouldStartWith("expired: nobody approved or rejected it by ");
    }
}
