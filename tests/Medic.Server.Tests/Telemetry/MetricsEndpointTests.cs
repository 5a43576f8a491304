using System.Globalization;
using System.Net;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Tests.Detection.Webhooks;
using Medic.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Medic.Server.Tests.Telemetry;

public sealed class MetricsEndpointTests
{
    internal static async Task<string> MetricsTokenAsync(HttpClient admin)
    {
        using var response = await admin.PostAsync("/api/v1/tokens", Json.Body(new CreateTokenRequest("prometheus", Role.Metrics, "30d"), MedicJson.Default.CreateTokenRequest));
        var created = await response.ReadAsync(MedicJson.Default.TokenCreatedResponse, HttpStatusCode.Created);
        created.Token.Role.ShouldBe(Role.Metrics);
        return created.Secret;
    }

    private static async Task<string> ScrapeAsync(HttpClient scraper)
    {
        using var response = await scraper.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        return text;
    }

    /// <summary>The values of the samples named <paramref name="name"/> that carry every given label.</summary>
    internal static List<double> Samples(string exposition, string name, params (string Label, string Value)[] labels) =>
        exposition.Split('\n')
            .Where(line => !line.StartsWith('#') && (line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal)))
            .Where(line => labels.All(l => line.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            .Select(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture))
            .ToList();

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_metrics_token_scrapes_incidents_by_state_webhook_outcomes_and_the_job_queue_and_reads_nothing_else(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var tenantId = (await (await server.Admin.GetAsync("/api/v1/whoami")).ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantId;
        var credentials = await WebhookSender.CredentialsAsync(server.Admin);
        using (var fired = await server.Client().SendAsync(WebhookSender.Signed("default", "alertmanager", Payloads.Bytes("alertmanager-firing.json"), credentials.SigningSecret)))
        {
            fired.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var forged = await server.Client().SendAsync(WebhookSender.Signed("default", "alertmanager", Payloads.Bytes("alertmanager-firing.json"), "not-the-tenants-secret-at-all")))
        {
            forged.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        var scraper = server.Client(await MetricsTokenAsync(server.Admin));
        var text = await ScrapeAsync(scraper);

        Samples(text, "medic_incidents", ("tenant_id", tenantId)).Sum().ShouldBe(2, text);
        Samples(text, "medic_incidents", ("tenant_id", tenantId), ("state", "resolved")).ShouldBeEmpty();
        Samples(text, "medic_webhook_deliveries_total", ("tenant_id", tenantId), ("source", "alertmanager"), ("outcome", "accepted")).ShouldBe([1]);
        Samples(text, "medic_webhook_deliveries_total", ("tenant_id", tenantId), ("source", "alertmanager"), ("outcome", "bad_signature")).ShouldBe([1]);
        Samples(text, "medic_tenant_info", ("tenant_id", tenantId), ("tenant", "default")).ShouldBe([1]);
        Samples(text, "medic_jobs", ("kind", "pipeline.triage"), ("status", "pending")).ShouldHaveSingleItem();
        Samples(text, "medic_jobs", ("kind", "notify.deliver"), ("status", "dead")).ShouldHaveSingleItem();
        Samples(text, "medic_jobs_oldest_due_age_seconds", ("kind", "pipeline.triage")).ShouldHaveSingleItem();
        Samples(text, "medic_db_transaction_duration_seconds_count", ("kind", "write")).Sum().ShouldBeGreaterThan(0);
        Samples(text, "medic_db_ping_duration_seconds").ShouldHaveSingleItem().ShouldBeGreaterThan(0);

        // Triage of the two incidents ran (or runs in a moment): its stage shows in the histogram.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Samples(text, "medic_pipeline_stage_duration_seconds_count", ("stage", "triage")).Sum() < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            text = await ScrapeAsync(scraper);
        }

        Samples(text, "medic_pipeline_stage_duration_seconds_count", ("stage", "triage")).Sum().ShouldBeGreaterThanOrEqualTo(2, text);
        text.ShouldContain("# TYPE medic_pipeline_stage_duration_seconds histogram");

        foreach (var path in new[] { "/api/v1/whoami", "/api/v1/incidents", "/api/v1/tokens", "/" })
        {
            using var refused = await scraper.GetAsync(path);
            refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, path);
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Scraping_without_a_metrics_token_is_refused_with_a_problem(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var viewer = await server.ClientForNewUserAsync(server.Admin, "viewer", Role.Viewer);

        using var anonymous = await server.Client().GetAsync("/metrics");
        using var wrongSecret = await server.Client("mdk_" + new string('a', 43)).GetAsync("/metrics");
        using var superadmin = await server.Admin.GetAsync("/metrics");
        using var ordinary = await viewer.GetAsync("/metrics");

        (await anonymous.ShouldBeProblemAsync(HttpStatusCode.Unauthorized))["remedy"]!.ToString().ShouldContain("medic tokens create");
        await wrongSecret.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        (await superadmin.ShouldBeProblemAsync(HttpStatusCode.Forbidden))["detail"]!.ToString().ShouldContain("'metrics' token");
        (await ordinary.ShouldBeProblemAsync(HttpStatusCode.Forbidden))["remedy"]!.ToString().ShouldContain("medic tokens create --role metrics");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Only_a_superadmin_creates_a_metrics_token_a_tenant_admin_cannot_and_no_user_holds_the_role(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        using (var tenant = await server.Admin.PostAsync("/api/v1/tenants", Json.Body(new CreateTenantRequest("globex", "Globex", "globex-admin", "globex-admin-password"), MedicJson.Default.CreateTenantRequest)))
        {
            tenant.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var globexAdmin = server.Client(await server.LogInAsync("globex-admin", "globex-admin-password", "globex"));
        using var mint = await globexAdmin.PostAsync("/api/v1/tokens", Json.Body(new CreateTokenRequest("scrape", Role.Metrics, null), MedicJson.Default.CreateTokenRequest));
        using var scrape = await globexAdmin.GetAsync("/metrics");
        using var user = await server.Admin.PostAsync("/api/v1/users", Json.Body(new CreateUserRequest("scraper", Role.Metrics, "a-long-enough-password", null), MedicJson.Default.CreateUserRequest));

        (await mint.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).ToJsonString().ShouldContain("superadmin");
        await scrape.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        (await user.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).ToJsonString().ShouldContain("API tokens only");
    }

    [Fact]
    public async Task Two_control_planes_in_one_process_each_export_only_their_own_series()
    {
        await using var one = await MedicServer.StartAsync(TestDatabase.Sqlite);
        await using var two = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var tenantTwo = (await (await two.Admin.GetAsync("/api/v1/whoami")).ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantId;
        using (var opened = await two.Admin.PostAsync("/api/v1/incidents", Json.Raw("""{"title":"only on two","severity":"warning"}""")))
        {
            opened.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var textTwo = await ScrapeAsync(two.Client(await MetricsTokenAsync(two.Admin)));
        var textOne = await ScrapeAsync(one.Client(await MetricsTokenAsync(one.Admin)));

        Samples(textTwo, "medic_incidents", ("tenant_id", tenantTwo)).Sum().ShouldBe(1, textTwo);
        textOne.ShouldNotContain(tenantTwo); // the meter provider listens by meter name, process-wide: each host keeps to its own meters
        Samples(textOne, "medic_db_ping_duration_seconds").ShouldHaveSingleItem();
        Samples(textOne, "medic_jobs", ("kind", "pipeline.triage"), ("status", "pending")).Count.ShouldBeLessThanOrEqualTo(1, textOne);
    }

    [Fact]
    public async Task A_database_reading_is_read_again_only_once_it_is_older_than_its_maximum_age()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var reads = 0;
        var reading = new CachedReading<int>(_ => Task.FromResult(++reads), 0, TimeSpan.FromSeconds(15), time);

        await reading.RefreshAsync(CancellationToken.None);
        await reading.RefreshAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(14));
        await reading.RefreshAsync(CancellationToken.None);
        var afterFourteen = reading.Current;
        time.Advance(TimeSpan.FromSeconds(1));
        await reading.RefreshAsync(CancellationToken.None);

        afterFourteen.ShouldBe(1);
        reading.Current.ShouldBe(2);
    }
}
