using System.Net;
using System.Text.Json.Nodes;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Detection.Webhooks;

/// <summary>Webhooks as operators run them: secrets they set, budgets nobody else can spend, one answer for strangers, and a delivery log.</summary>
public sealed class WebhookOperationsTests
{
    private const string Tenant = "default";

    /// <summary>A secret as PagerDuty generates one for a V3 subscription; Medic never sees it except through set-secret.</summary>
    private const string PagerDutySecret = "ChdyXBTo0rUp5AgPbDh0kAP5jbGqWy6E2hMb3xYL7G8tJmWZ0y4vbZ6CLRvpDl3y";

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        using (request) return await client.SendAsync(request);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_delivery_signed_by_PagerDuty_with_its_own_secret_verifies_once_an_admin_sets_that_secret(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await WebhookSender.CredentialsAsync(server.Admin);
        var triggered = Payloads.Bytes("pagerduty-triggered.json");

        using (var before = await SendAsync(server.Client(), WebhookSender.PagerDutySigned(Tenant, triggered, PagerDutySecret)))
        {
            await before.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        using (var tooShort = await server.Admin.PutAsync("/api/v1/webhooks/sources/pagerduty/secret", Json.Raw("""{"secret":"short"}""")))
        {
            (await tooShort.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("at least 16 characters");
        }

        using (var unknown = await server.Admin.PutAsync("/api/v1/webhooks/sources/nagios/secret", Json.Raw($$"""{"secret":"{{PagerDutySecret}}"}""")))
        {
            await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        }

        using var set = await server.Admin.PutAsync("/api/v1/webhooks/sources/pagerduty/secret", Json.Raw($$"""{"secret":"{{PagerDutySecret}}"}"""));
        var credential = await set.ReadAsync(MedicJson.Default.WebhookSourceCredentialResponse);
        (credential.Source, credential.Kind, credential.CreatedBy).ShouldBe(("pagerduty", "signing_secret", "user:admin"));

        using (var after = await SendAsync(server.Client(), WebhookSender.PagerDutySigned(Tenant, triggered, PagerDutySecret)))
        {
            (await after.ReadAsync(MedicJson.Default.WebhookDeliveryResponse)).Created.ShouldBe(1);
        }

        using (var resolved = await SendAsync(server.Client(), WebhookSender.PagerDutySigned(Tenant, Payloads.Bytes("pagerduty-resolved.json"), PagerDutySecret)))
        {
            (await resolved.ReadAsync(MedicJson.Default.WebhookDeliveryResponse)).Resolved.ShouldBe(1);
        }

        // The secret is PagerDuty's source's only: it does not open another source.
        using (var elsewhere = await SendAsync(server.Client(), WebhookSender.Request(Tenant, "generic", Payloads.Bytes("generic-firing.json"),
            ("X-PagerDuty-Signature", "v1=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(PagerDutySecret), Payloads.Bytes("generic-firing.json")))))))
        {
            await elsewhere.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        (await WebhookSender.CredentialsAsync(server.Admin)).SourceCredentials.ShouldNotBeNull().ShouldHaveSingleItem().Kind.ShouldBe("signing_secret");
        (await server.Database.DumpAllAsync()).ShouldNotContain(PagerDutySecret);
        server.Logs.Lines.ShouldAllBe(l => !l.Message.Contains(PagerDutySecret));
        using var audit = await server.Admin.GetAsync("/api/v1/audit?action=webhooks.source_credential.set");
        var entry = (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.ShouldHaveSingleItem();
        entry.Details["source"].ShouldBe("pagerduty");
        entry.Details.Values.ShouldAllBe(v => !v.Contains(PagerDutySecret));

        using (var cleared = await server.Admin.DeleteAsync("/api/v1/webhooks/sources/pagerduty/secret"))
        {
            cleared.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using var gone = await SendAsync(server.Client(), WebhookSender.PagerDutySigned(Tenant, triggered, PagerDutySecret));
        await gone.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Basic_auth_set_for_Alertmanager_lets_its_deliveries_in_and_is_sealed_at_rest(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        const string password = "correct-horse-battery-staple";
        var body = Payloads.Bytes("alertmanager-firing.json");

        using (var set = await server.Admin.PutAsync("/api/v1/webhooks/sources/alertmanager/basic-auth", Json.Raw($$"""{"username":"alertmanager","password":"{{password}}"}""")))
        {
            (await set.ReadAsync(MedicJson.Default.WebhookSourceCredentialResponse)).Username.ShouldBe("alertmanager");
        }

        using (var colon = await server.Admin.PutAsync("/api/v1/webhooks/sources/alertmanager/basic-auth", Json.Raw($$"""{"username":"a:b","password":"{{password}}"}""")))
        {
            (await colon.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("username");
        }

        // Works before anyone asked for the tenant's generated credentials.
        using (var accepted = await SendAsync(server.Client(), WebhookSender.BasicAuth(Tenant, "alertmanager", body, "alertmanager", password)))
        {
            (await accepted.ReadAsync(MedicJson.Default.WebhookDeliveryResponse)).Alerts.ShouldBe(2);
        }

        using (var wrong = await SendAsync(server.Client(), WebhookSender.BasicAuth(Tenant, "alertmanager", body, "alertmanager", password + "x")))
        {
            await wrong.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        using (var otherSource = await SendAsync(server.Client(), WebhookSender.BasicAuth(Tenant, "datadog", Payloads.Bytes("datadog-default-triggered.json"), "alertmanager", password)))
        {
            await otherSource.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        var log = (await WebhookSender.DeliveriesAsync(server.Admin, "alertmanager")).Deliveries;
        log.Select(d => (d.Outcome, d.Auth)).ShouldBe([(WebhookOutcome.WrongBasicAuth, null), (WebhookOutcome.Accepted, "basic")]);
        (await server.Database.DumpAllAsync()).ShouldNotContain(password);
    }

    [Fact]
    public async Task A_burst_of_refused_deliveries_from_one_address_is_limited_there_while_the_authenticated_sender_still_gets_in()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.RateLimits.WebhooksPerMinute = 5);
        var c = await WebhookSender.CredentialsAsync(server.Admin);
        var attacker = server.Client(from: IPAddress.Parse("127.0.0.2"));
        var sender = server.Client();
        var body = Payloads.Bytes("alertmanager-firing.json");

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            var request = i % 3 == 0
                ? WebhookSender.Request("no-such-tenant", "alertmanager", body)
                : WebhookSender.Bearer(Tenant, "alertmanager", body, "mwt_guess-" + i);
            using var response = await SendAsync(attacker, request);
            answers.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                response.Headers.RetryAfter.ShouldNotBeNull().Delta.ShouldNotBeNull().TotalSeconds.ShouldBeInRange(1, 60);
            }
        }

        answers.ShouldBe([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 7)]);

        // Alertmanager's deliveries, authenticated, still get in: nobody without the token can spend its budget.
        for (var i = 0; i < 5; i++)
        {
            using var response = await SendAsync(sender, WebhookSender.Bearer(Tenant, "alertmanager", i % 2 == 0 ? body : Payloads.Bytes("alertmanager-resolved.json"), c.BearerToken));
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }

        // Its own budget is its own: the sixth in the minute is refused, and logged as such.
        using (var over = await SendAsync(sender, WebhookSender.Bearer(Tenant, "alertmanager", body, c.BearerToken)))
        {
            await over.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        }

        var deliveries = await WebhookSender.DeliveriesAsync(server.Admin, "alertmanager");
        deliveries.Deliveries[0].Outcome.ShouldBe(WebhookOutcome.RateLimited);
        deliveries.Deliveries[0].Auth.ShouldBe("bearer");
        deliveries.Refusals["wrong_token"].ShouldBe(3);
        deliveries.Refusals["rate_limited"].ShouldBe(6); // five of the stranger's guesses at this tenant, one of the sender's
        deliveries.Deliveries.Count(d => d.ClientAddress == "127.0.0.2").ShouldBe(8);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_unknown_tenant_and_a_bad_credential_get_the_same_401(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var body = Payloads.Bytes("alertmanager-firing.json");

        async Task<(HttpStatusCode Status, string? Type, string Body)> AnswerAsync(HttpRequestMessage request)
        {
            using var response = await SendAsync(server.Client(), request);
            var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
            json.Remove("trace_id"); // differs per request by design
            return (response.StatusCode, response.Content.Headers.ContentType?.ToString(), json.ToJsonString());
        }

        // A tenant whose admin never asked for credentials: as closed as one that does not exist.
        var noCredentials = await AnswerAsync(WebhookSender.Bearer(Tenant, "alertmanager", body, "mwt_guess"));
        var c = await WebhookSender.CredentialsAsync(server.Admin);
        var unknown = await AnswerAsync(WebhookSender.Bearer("no-such-tenant", "alertmanager", body, c.BearerToken));
        var badToken = await AnswerAsync(WebhookSender.Bearer(Tenant, "alertmanager", body, "mwt_guess"));
        var badSignature = await AnswerAsync(WebhookSender.Signed(Tenant, "alertmanager", body, "mws_guess"));
        var unknownUnsigned = await AnswerAsync(WebhookSender.Request("no-such-tenant", "alertmanager", body));

        unknown.Status.ShouldBe(HttpStatusCode.Unauthorized);
        badToken.ShouldBe(unknown);
        badSignature.ShouldBe(unknown);
        noCredentials.ShouldBe(unknown);
        unknownUnsigned.ShouldBe(unknown);
        unknown.Body.ShouldNotContain("no-such-tenant");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Each_source_keeps_its_last_200_deliveries_with_the_reason_for_each_refusal_and_never_the_body_or_a_secret(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, o => o.RateLimits.WebhooksPerMinute = 10_000);
        var c = await WebhookSender.CredentialsAsync(server.Admin);
        var marker = "body-marker-" + Guid.NewGuid().ToString("N");
        var body = System.Text.Encoding.UTF8.GetBytes($$"""{"alerts":[{"fingerprint":"{{marker}}","status":"firing","title":"{{marker}}"}]}""");
        var sender = server.Client();

        for (var i = 0; i < 203; i++)
        {
            using var refused = await SendAsync(sender, WebhookSender.Signed(Tenant, "generic", body, c.SigningSecret + "x"));
            refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        using (var malformed = await SendAsync(sender, WebhookSender.Signed(Tenant, "generic", """{"alerts":[{"fingerprint":"f","status":"firing","title":"t","sevrity":"x"}]}"""u8.ToArray(), c.SigningSecret)))
        {
            await malformed.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        }

        using (var unknownScheme = await SendAsync(sender, WebhookSender.Request(Tenant, "generic", body, ("Authorization", "Token " + c.BearerToken))))
        {
            await unknownScheme.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        using (var accepted = await SendAsync(sender, WebhookSender.Bearer(Tenant, "generic", Payloads.Bytes("generic-firing.json"), c.BearerToken)))
        {
            accepted.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var log = await WebhookSender.DeliveriesAsync(server.Admin, "generic", 200);
        log.Deliveries.Count.ShouldBe(200);
        var newest = log.Deliveries[0];
        (newest.Status, newest.Outcome, newest.Auth, newest.Alerts, newest.ClientAddress).ShouldBe((200, WebhookOutcome.Accepted, "bearer", 1, "127.0.0.1"));
        (log.Deliveries[1].Status, log.Deliveries[1].Outcome).ShouldBe((401, WebhookOutcome.UnknownScheme));
        (log.Deliveries[2].Status, log.Deliveries[2].Outcome, log.Deliveries[2].Auth).ShouldBe((400, WebhookOutcome.MalformedPayload, "medic-signature"));
        log.Deliveries[2].Detail.ShouldNotBeNull().ShouldContain("sevrity");
        log.Deliveries[3].Outcome.ShouldBe(WebhookOutcome.BadSignature);
        log.Deliveries.ShouldAllBe(d => d.At <= DateTimeOffset.UtcNow && d.At > DateTimeOffset.UtcNow.AddMinutes(-10));
        log.Refusals.ShouldBe(new Dictionary<string, long> { ["bad_signature"] = 203, ["malformed_payload"] = 1, ["unknown_scheme"] = 1 });
        (await WebhookSender.DeliveriesAsync(server.Admin, "generic")).Deliveries.Count.ShouldBe(50);
        (await WebhookSender.DeliveriesAsync(server.Admin, "grafana")).Deliveries.ShouldBeEmpty();

        // Pruned in the database too, not only in the answer.
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM webhook_deliveries")).ShouldBe(200);
        var everything = await server.Database.DumpAllAsync();
        everything.ShouldNotContain(marker);
        everything.ShouldNotContain(c.SigningSecret);
        everything.ShouldNotContain(c.BearerToken);

        using (var tooMany = await server.Admin.GetAsync("/api/v1/webhooks/sources/generic/deliveries?limit=201"))
        {
            await tooMany.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        }

        var viewer = await server.ClientForNewUserAsync(server.Admin, "vera", Role.Operator);
        using var forbidden = await viewer.GetAsync("/api/v1/webhooks/sources/generic/deliveries");
        await forbidden.ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        // Another tenant's admin reads their own log for the same source: nothing of this tenant's.
        using var create = await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"acme","admin_username":"acme-admin","admin_password":"acme-admin-password"}"""));
        create.StatusCode.ShouldBe(HttpStatusCode.Created);
        var acme = server.Client(await server.LogInAsync("acme-admin", "acme-admin-password", "acme"));
        var theirs = await WebhookSender.DeliveriesAsync(acme, "generic");
        theirs.Deliveries.ShouldBeEmpty();
        theirs.Refusals.ShouldBeEmpty();
    }
}
