using System.Net;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Medic.Server.Tests.Detection.Webhooks;

/// <summary>Alert deliveries over HTTP into the real incident record, and the admin's view of URLs, secrets and rotation.</summary>
public sealed class WebhooksApiTests
{
    private const string Tenant = "default";

    private static async Task<IReadOnlyList<IncidentResponse>> IncidentsAsync(MedicServer server, string source)
    {
        using var response = await server.Admin.GetAsync($"/api/v1/incidents?source={source}&limit=100");
        return (await response.ReadAsync(MedicJson.Default.IncidentPage)).Items;
    }

    private static async Task<WebhookDeliveryResponse> DeliverAsync(MedicServer server, HttpRequestMessage request)
    {
        using (request)
        using (var response = await server.Client().SendAsync(request))
        {
            return await response.ReadAsync(MedicJson.Default.WebhookDeliveryResponse);
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_signed_Alertmanager_group_opens_one_incident_per_alert_the_resolved_payload_resolves_them_and_one_changed_byte_is_refused(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var credentials = await WebhookSender.CredentialsAsync(server.Admin);

        var fired = await DeliverAsync(server, WebhookSender.Signed(Tenant, "alertmanager", Payloads.Bytes("alertmanager-firing.json"), credentials.SigningSecret));
        (fired.Alerts, fired.Created, fired.Updated).ShouldBe((2, 2, 0));
        var incidents = await IncidentsAsync(server, "alertmanager");
        // No triage rule matches an unclassified alert, so triage escalates each one (at once, or a moment later).
        incidents.Count.ShouldBe(2);
        incidents.ShouldAllBe(i => (i.Status == IncidentStatus.Open || i.Status == IncidentStatus.Escalated) && i.Occurrences == 1 && i.Firing == 1 && i.Severity == "critical");
        fired.Incidents.Order(StringComparer.Ordinal).ShouldBe(incidents.Select(i => i.Id).Order(StringComparer.Ordinal));

        var resolvedBody = Payloads.Bytes("alertmanager-resolved.json");
        var tampered = (byte[])resolvedBody.Clone();
        tampered[Array.IndexOf(tampered, (byte)'9')] = (byte)'8';
        using (var forged = WebhookSender.Signed(Tenant, "alertmanager", resolvedBody, credentials.SigningSecret))
        {
            forged.Content = new ByteArrayContent(tampered);
            forged.Content.Headers.ContentType = new("application/json");
            using var refused = await server.Client().SendAsync(forged);
            await refused.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        (await WebhookSender.DeliveriesAsync(server.Admin, "alertmanager")).Deliveries[0].Detail.ShouldNotBeNull().ShouldContain("does not match the body");

        (await IncidentsAsync(server, "alertmanager")).Sum(i => i.Firing).ShouldBe(2);

        var resolved = await DeliverAsync(server, WebhookSender.Signed(Tenant, "alertmanager", resolvedBody, credentials.SigningSecret));
        (resolved.Alerts, resolved.Resolved).ShouldBe((2, 2));
        var after = await IncidentsAsync(server, "alertmanager");
        after.Select(i => i.Id).Order(StringComparer.Ordinal).ShouldBe(incidents.Select(i => i.Id).Order(StringComparer.Ordinal));
        after.ShouldAllBe(i => i.Status.ToText() == "resolved" && i.Firing == 0);

        using var audit = await server.Admin.GetAsync("/api/v1/audit?actor=webhook:alertmanager");
        (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.Where(e => e.Action == "webhook.deliver").Count().ShouldBe(2);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Concurrent_deliveries_about_new_problems_all_succeed_and_open_one_incident_per_alert(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var c = await WebhookSender.CredentialsAsync(server.Admin);
        var body = Payloads.Bytes("alertmanager-firing.json");

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var request = WebhookSender.Bearer(Tenant, "alertmanager", body, c.BearerToken);
            using var response = await server.Client().SendAsync(request);
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }));

        answers.ShouldAllBe(a => a.StartsWith("200 ", StringComparison.Ordinal));
        var incidents = await IncidentsAsync(server, "alertmanager");
        incidents.Count.ShouldBe(2);
        incidents.ShouldAllBe(i => i.Occurrences == 1 && i.SignalCount == 8);
    }

    [Fact]
    public async Task Each_senders_real_payloads_get_in_with_that_senders_own_scheme()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var c = await WebhookSender.CredentialsAsync(server.Admin);

        (await DeliverAsync(server, WebhookSender.Bearer(Tenant, "alertmanager", Payloads.Bytes("alertmanager-truncated.json"), c.BearerToken))).Alerts.ShouldBe(2);
        (await DeliverAsync(server, WebhookSender.Grafana(Tenant, Payloads.Bytes("grafana-firing.json"), c.SigningSecret))).Created.ShouldBe(1);
        (await DeliverAsync(server, WebhookSender.Bearer(Tenant, "datadog", Payloads.Bytes("datadog-default-triggered.json"), c.BearerToken))).Created.ShouldBe(1);
        (await DeliverAsync(server, WebhookSender.PagerDuty(Tenant, Payloads.Bytes("pagerduty-triggered.json"), c.SigningSecret))).Created.ShouldBe(1);
        (await DeliverAsync(server, WebhookSender.PagerDuty(Tenant, Payloads.Bytes("pagerduty-ping.json"), c.SigningSecret))).Alerts.ShouldBe(0);
        (await DeliverAsync(server, WebhookSender.Signed(Tenant, "generic", Payloads.Bytes("generic-firing.json"), c.SigningSecret))).Created.ShouldBe(1);

        (await DeliverAsync(server, WebhookSender.Grafana(Tenant, Payloads.Bytes("grafana-resolved.json"), c.SigningSecret))).Resolved.ShouldBe(1);
        (await DeliverAsync(server, WebhookSender.Bearer(Tenant, "datadog", Payloads.Bytes("datadog-default-recovered.json"), c.BearerToken))).Resolved.ShouldBe(1);
        (await DeliverAsync(server, WebhookSender.PagerDuty(Tenant, Payloads.Bytes("pagerduty-resolved.json"), c.SigningSecret))).Resolved.ShouldBe(1);
        (await DeliverAsync(server, WebhookSender.Signed(Tenant, "generic", Payloads.Bytes("generic-resolved.json"), c.SigningSecret))).Resolved.ShouldBe(1);

        foreach (var source in new[] { "grafana", "datadog", "pagerduty", "generic" })
        {
            (await IncidentsAsync(server, source)).ShouldHaveSingleItem().Status.ToText().ShouldBe("resolved", source);
        }

        // The truncated group's resolved alert was never open here: only its firing alert is an incident.
        (await IncidentsAsync(server, "alertmanager")).ShouldHaveSingleItem().Firing.ShouldBe(1);
    }

    [Fact]
    public async Task Alerts_that_fire_and_resolve_again_and_again_reopen_their_own_incidents_and_are_marked_flapping()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var c = await WebhookSender.CredentialsAsync(server.Admin);

        for (var i = 0; i < 3; i++)
        {
            await DeliverAsync(server, WebhookSender.Bearer(Tenant, "alertmanager", Payloads.Bytes("alertmanager-firing.json"), c.BearerToken));
            await DeliverAsync(server, WebhookSender.Bearer(Tenant, "alertmanager", Payloads.Bytes("alertmanager-resolved.json"), c.BearerToken));
        }

        var incidents = await IncidentsAsync(server, "alertmanager");
        incidents.Count.ShouldBe(2);
        incidents.ShouldAllBe(i => i.Flapping && i.Status.ToText() == "resolved");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task After_a_rotation_the_old_secret_works_until_the_overlap_ends_and_the_new_one_at_once(string dialect)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MedicServer.StartAsync(dialect, time: clock);
        var old = await WebhookSender.CredentialsAsync(server.Admin);
        var body = Payloads.Bytes("generic-firing.json");

        using var rotate = await server.Admin.PostAsync("/api/v1/webhooks/rotate", Json.Raw("""{"overlap":"1h"}"""));
        var rotated = await rotate.ReadAsync(MedicJson.Default.WebhooksResponse);
        rotated.SigningSecret.ShouldNotBe(old.SigningSecret);
        rotated.BearerToken.ShouldNotBe(old.BearerToken);
        rotated.Retired.Select(r => r.Kind).Order().ShouldBe(["bearer_token", "signing_secret"]);
        foreach (var retired in rotated.Retired)
        {
            retired.ExpiresAt.ShouldBe(clock.GetUtcNow().AddHours(1), TimeSpan.FromSeconds(1));
        }

        (await DeliverAsync(server, WebhookSender.Signed(Tenant, "generic", body, old.SigningSecret, clock))).Alerts.ShouldBe(1);
        (await DeliverAsync(server, WebhookSender.Bearer(Tenant, "generic", body, old.BearerToken))).Alerts.ShouldBe(1);
        (await DeliverAsync(server, WebhookSender.Signed(Tenant, "generic", body, rotated.SigningSecret, clock))).Alerts.ShouldBe(1);

        clock.Advance(TimeSpan.FromMinutes(59));
        (await DeliverAsync(server, WebhookSender.Signed(Tenant, "generic", body, old.SigningSecret, clock))).Alerts.ShouldBe(1, "the old secret still works within the overlap");

        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        using (var late = await server.Client().SendAsync(WebhookSender.Signed(Tenant, "generic", body, old.SigningSecret, clock)))
        {
            await late.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        using (var lateToken = await server.Client().SendAsync(WebhookSender.Bearer(Tenant, "generic", body, old.BearerToken)))
        {
            await lateToken.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        (await DeliverAsync(server, WebhookSender.Bearer(Tenant, "generic", body, rotated.BearerToken))).Alerts.ShouldBe(1);

        // Without an overlap the replaced credentials stop at once.
        using var now = await server.Admin.PostAsync("/api/v1/webhooks/rotate", Json.Raw("""{"overlap":"0"}"""));
        var third = await now.ReadAsync(MedicJson.Default.WebhooksResponse);
        third.Retired.ShouldBeEmpty();
        using (var stale = await server.Client().SendAsync(WebhookSender.Signed(Tenant, "generic", body, rotated.SigningSecret, clock)))
        {
            await stale.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        using var audit = await server.Admin.GetAsync("/api/v1/audit?action=webhooks.credentials.rotate");
        (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.Count.ShouldBe(2);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Wrong_tenant_source_size_credentials_and_payloads_get_their_own_4xx_and_write_nothing(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var c = await WebhookSender.CredentialsAsync(server.Admin);
        var anonymous = server.Client();
        var body = Payloads.Bytes("alertmanager-firing.json");
        var before = await server.Database.SnapshotAsync("incidents");

        async Task<string> RefusedAsync(HttpRequestMessage request, HttpStatusCode status)
        {
            using (request)
            using (var response = await anonymous.SendAsync(request))
            {
                return (await response.ShouldBeProblemAsync(status)).Detail();
            }
        }

        (await RefusedAsync(WebhookSender.Signed("no-such-tenant", "alertmanager", body, c.SigningSecret), HttpStatusCode.Unauthorized)).ShouldNotContain("no-such-tenant");
        (await RefusedAsync(WebhookSender.Signed(Tenant, "nagios", body, c.SigningSecret), HttpStatusCode.BadRequest)).ShouldContain("nagios");
        (await RefusedAsync(WebhookSender.Signed(Tenant, "alertmanager", new byte[(1024 * 1024) + 1], c.SigningSecret), HttpStatusCode.RequestEntityTooLarge)).ShouldContain("1 MiB");
        await RefusedAsync(WebhookSender.Request(Tenant, "alertmanager", body), HttpStatusCode.Unauthorized);
        await RefusedAsync(WebhookSender.Bearer(Tenant, "alertmanager", body, server.AdminToken), HttpStatusCode.Unauthorized);
        var stale = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600;
        await RefusedAsync(WebhookSender.Request(Tenant, "alertmanager", body, ("X-Medic-Timestamp", stale.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("X-Medic-Signature", Medic.Server.Detection.Webhooks.WebhookAuthenticator.Sign(c.SigningSecret, body, stale))), HttpStatusCode.Unauthorized);
        // The sender hears only "not authenticated"; the tenant's admins read why in the source's delivery log.
        var log = (await WebhookSender.DeliveriesAsync(server.Admin, "alertmanager")).Deliveries;
        log.Select(d => (d.Status, d.Outcome)).ShouldBe([(401, WebhookOutcome.StaleTimestamp), (401, WebhookOutcome.WrongToken), (401, WebhookOutcome.NoCredentials), (413, WebhookOutcome.TooLarge)]);
        log[0].Detail.ShouldNotBeNull().ShouldContain("s old");
        log[1].Detail.ShouldNotBeNull().ShouldContain("not this tenant's webhook token");
        (await RefusedAsync(WebhookSender.Signed(Tenant, "alertmanager", body[..(body.Length / 2)], c.SigningSecret), HttpStatusCode.BadRequest)).ShouldContain("not valid JSON");
        (await RefusedAsync(WebhookSender.Signed(Tenant, "grafana", Payloads.Bytes("alertmanager-firing.json")[..^1].Concat("x"u8.ToArray()).ToArray(), c.SigningSecret), HttpStatusCode.BadRequest)).ShouldContain("grafana payload");
        (await RefusedAsync(WebhookSender.Signed(Tenant, "alertmanager", Payloads.Bytes("grafana-firing.json"), c.SigningSecret), HttpStatusCode.BadRequest)).ShouldContain("Grafana");
        var halfBad = """{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"fingerprint":"1"},{"status":"firing","labels":{"alertname":5}}]}"""u8.ToArray();
        (await RefusedAsync(WebhookSender.Signed(Tenant, "alertmanager", halfBad, c.SigningSecret), HttpStatusCode.BadRequest)).ShouldContain("alerts[1].labels.alertname");

        (await server.Database.SnapshotAsync("incidents")).ShouldBe(before);
    }

    [Fact]
    public async Task A_tenant_whose_admin_never_asked_for_credentials_refuses_every_delivery()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        using var response = await server.Client().SendAsync(WebhookSender.Bearer(Tenant, "alertmanager", Payloads.Bytes("alertmanager-firing.json"), "mwt_guess"));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        ((string?)problem["remedy"]).ShouldNotBeNull().ShouldContain("medic webhooks show");
        var refused = (await WebhookSender.DeliveriesAsync(server.Admin, "alertmanager")).Deliveries.ShouldHaveSingleItem();
        (refused.Outcome, refused.Detail).ShouldBe((WebhookOutcome.NotConfigured, "this tenant has no webhook credentials yet: a tenant admin runs 'medic webhooks show' to create them"));
    }

    [Fact]
    public async Task Deliveries_over_the_tenants_budget_get_429_with_Retry_After_while_another_tenant_is_unaffected()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.RateLimits.WebhooksPerMinute = 3);
        var c = await WebhookSender.CredentialsAsync(server.Admin);
        using var create = await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"acme","admin_username":"acme-admin","admin_password":"acme-admin-password"}"""));
        create.StatusCode.ShouldBe(HttpStatusCode.Created);
        var acme = await WebhookSender.CredentialsAsync(server.Client(await server.LogInAsync("acme-admin", "acme-admin-password", "acme")));
        var body = Payloads.Bytes("generic-firing.json");

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await server.Client().SendAsync(WebhookSender.Bearer(Tenant, "generic", body, c.BearerToken));
            answers.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                response.Headers.RetryAfter.ShouldNotBeNull().Delta.ShouldNotBeNull().TotalSeconds.ShouldBeInRange(1, 60);
                await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
            }
        }

        answers.ShouldBe([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests]);
        (await DeliverAsync(server, WebhookSender.Bearer("acme", "generic", body, acme.BearerToken))).Alerts.ShouldBe(1);
        // One tenant's credentials do not open another tenant's endpoint.
        using var crossed = await server.Client().SendAsync(WebhookSender.Bearer("acme", "generic", body, c.BearerToken));
        await crossed.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Admins_get_each_sources_URL_and_configuration_and_the_secrets_are_sealed_at_rest_and_never_logged(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var c = await WebhookSender.CredentialsAsync(server.Admin);

        c.Tenant.ShouldBe(Tenant);
        c.SigningSecret.ShouldStartWith("mws_");
        c.BearerToken.ShouldStartWith("mwt_");
        c.RateLimitPerMinute.ShouldBe(60);
        c.Sources.Select(s => s.Source).ShouldBe(["alertmanager", "grafana", "datadog", "pagerduty", "zabbix", "uptimekuma", "generic"]);
        c.Sources.ShouldAllBe(s => s.Url == new Uri(server.BaseAddress, WebhookSender.Path(Tenant, s.Source)).ToString());
        c.Sources[0].Setup.ShouldContain("credentials: " + c.BearerToken);
        c.Sources[1].Setup.ShouldContain("secret: " + c.SigningSecret);
        c.Sources[4].Setup.ShouldContain("request.addHeader('Authorization: Bearer ' + token);");
        c.Sources[4].Setup.ShouldContain("medic_token = " + c.BearerToken);
        c.Sources[5].Setup.ShouldContain("{\"Authorization\": \"Bearer " + c.BearerToken + "\"}");
        c.Sources[6].Setup.ShouldContain("openssl dgst -sha256 -hmac");
        (await WebhookSender.CredentialsAsync(server.Admin)).SigningSecret.ShouldBe(c.SigningSecret, "created once, then shown again");
        await DeliverAsync(server, WebhookSender.Bearer(Tenant, "generic", Payloads.Bytes("generic-firing.json"), c.BearerToken));

        var everything = await server.Database.DumpAllAsync();
        everything.ShouldNotContain(c.SigningSecret);
        everything.ShouldNotContain(c.BearerToken);
        everything.ShouldNotContain(c.SigningSecret["mws_".Length..]);
        server.Logs.Lines.ShouldAllBe(l => !l.Message.Contains(c.SigningSecret) && !l.Message.Contains(c.BearerToken));

        var viewer = await server.ClientForNewUserAsync(server.Admin, "vera", Role.Operator);
        using var refused = await viewer.GetAsync("/api/v1/webhooks");
        await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        using var rotateRefused = await viewer.PostAsync("/api/v1/webhooks/rotate", Json.Raw("{}"));
        await rotateRefused.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        using var anonymous = await server.Client().GetAsync("/api/v1/webhooks");
        await anonymous.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        using var badOverlap = await server.Admin.PostAsync("/api/v1/webhooks/rotate", Json.Raw("""{"overlap":"forever"}"""));
        (await badOverlap.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("overlap");
    }
}
