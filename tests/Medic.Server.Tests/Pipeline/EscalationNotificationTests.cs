using System.Net;
using System.Text;
using Medic.Contracts;
using Medic.Server.Tests.Detection.Webhooks;
using Medic.Server.Tests.Infrastructure;
using Medic.Server.Tests.Notifications;

namespace Medic.Server.Tests.Pipeline;

/// <summary>Every time the pipeline stops, the on-call route hears it, with what was tried and what is likely wrong.</summary>
public sealed class EscalationNotificationTests
{
    private const string AutonomousRules = """
        rules:
          - name: web-down
            match: {type: web_down}
            recipe: fix-web
            params: {unit: "${{ labels.unit }}"}
            trust: autonomous
        """;

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_failed_remediation_pages_on_call_with_what_was_tried_and_the_likely_cause_and_a_second_failure_pages_again(string dialect)
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var server = await MedicServer.StartAsync(dialect, o => o.Pipeline.NodeGraceSeconds = 0);
        using (var applied = await server.Admin.PostAsync("/api/v1/runbooks", Json.Raw(PipelineApiTests.FixWeb, "application/yaml"))) applied.StatusCode.ShouldBe(HttpStatusCode.Created);
        using (var rules = await server.Admin.PutAsync("/api/v1/pipeline/triage-rules", Json.Body(new TriageRulesRequest(AutonomousRules), MedicJson.Default.TriageRulesRequest))) rules.StatusCode.ShouldBe(HttpStatusCode.OK);
        using (var token = await server.Admin.PostAsync("/api/v1/enrollment-tokens", Json.Raw("{}")))
        {
            var secret = (await token.ReadAsync(MedicJson.Default.EnrollmentTokenCreatedResponse, HttpStatusCode.Created)).Secret;
            using var enroll = await server.Client().PostAsync("/agent/v1/enroll", Json.Raw($$"""{"token":"{{secret}}","name":"web-1"}"""));
            enroll.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var hook = await server.Admin.PostAsync("/api/v1/notification-channels", Json.Raw($$"""{"name":"on-call","kind":"webhook","url":"{{receiver.Address}}page"}"""))) hook.StatusCode.ShouldBe(HttpStatusCode.Created);
        using (var rule = await server.Admin.PostAsync("/api/v1/notification-rules", Json.Raw("""{"name":"page-on-call","channels":["on-call"],"events":["escalated"]}"""))) rule.StatusCode.ShouldBe(HttpStatusCode.Created);

        var credentials = await WebhookSender.CredentialsAsync(server.Admin);
        const string Alert = """
            {"alerts":[{"fingerprint":"web-1-nginx","status":"firing","title":"nginx is down","severity":"critical","server":"web-1",
              "labels":{"medic_type":"web_down","unit":"nginx"},
              "evidence":{"likely_cause":"nginx: [emerg] unknown directive \"proxy_passs\" in /etc/nginx/sites-enabled/shop:12","last_lines":"nginx.service: Failed with result 'exit-code'."}}]}
            """;
        using var request = WebhookSender.Bearer("default", "generic", Encoding.UTF8.GetBytes(Alert), credentials.BearerToken);
        using var delivered = await server.Client().SendAsync(request);
        var id = (await delivered.ReadAsync(MedicJson.Default.WebhookDeliveryResponse)).Incidents.ShouldHaveSingleItem();

        // Round 1: fix-web runs on web-1, whose agent never connects; the remediation fails and the incident is escalated.
        var page = (await receiver.WaitForAsync(1)).ShouldHaveSingleItem().Json;
        page.GetProperty("event").GetString().ShouldBe("escalated");
        page.GetProperty("incident").GetProperty("id").GetString().ShouldBe(id);
        var escalation = page.GetProperty("escalation");
        escalation.GetProperty("tried").GetString()!.ShouldStartWith("fix-web v1 on web-1: unreachable");
        escalation.GetProperty("reason").GetString().ShouldNotBeNullOrWhiteSpace();
        escalation.GetProperty("likely_cause").GetString()!.ShouldContain("unknown directive \"proxy_passs\"");
        escalation.GetProperty("output").GetString()!.ShouldContain("exit-code");

        // A person fixes something and comments: round 2 fails too, and on-call hears of it again.
        using (var comment = await server.Admin.PostAsync($"/api/v1/incidents/{id}/comments", Json.Raw("""{"text":"fixed the config, try again"}""")))
        {
            comment.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var second = (await receiver.WaitForAsync(2))[1].Json;
        second.GetProperty("event").GetString().ShouldBe("escalated");
        second.GetProperty("delivery_id").GetString().ShouldNotBe(page.GetProperty("delivery_id").GetString());
    }
}
