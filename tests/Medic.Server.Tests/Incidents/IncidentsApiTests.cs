using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Incidents;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Incidents;

/// <summary>The incidents API as a person or the CLI uses it: open by hand, list, show, acknowledge, resolve, watch live.</summary>
public sealed class IncidentsApiTests
{
    private static async Task<IncidentResponse> CreateAsync(HttpClient client, string json)
    {
        using var response = await client.PostAsync("/api/v1/incidents", Json.Raw(json));
        return await response.ReadAsync(MedicJson.Default.IncidentResponse, HttpStatusCode.Created);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_manual_incident_is_listed_shown_acknowledged_and_resolved_with_its_timeline_and_audit(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);

        var created = await CreateAsync(server.Admin, """{"title":"Checkout is slow","severity":"critical","summary":"p99 at 4 s","labels":{"team":"shop"}}""");
        created.Status.ToText().ShouldBe("open");
        created.Source.ShouldBe("manual");
        created.Labels["team"].ShouldBe("shop");

        using var list = await server.Admin.GetAsync("/api/v1/incidents?status=active&severity=critical");
        (await list.ReadAsync(MedicJson.Default.IncidentPage)).Items.Select(i => i.Id).ShouldBe([created.Id]);

        using var comment = await server.Admin.PostAsync($"/api/v1/incidents/{created.Id}/comments", Json.Raw("""{"text":"cache hit rate fell at 10:02"}"""));
        comment.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var empty = await server.Admin.PostAsync($"/api/v1/incidents/{created.Id}/comments", Json.Raw("""{"text":""}"""));
        await empty.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        using var ack = await server.Admin.PostAsync($"/api/v1/incidents/{created.Id}/acknowledge", Json.Raw("""{"comment":"looking"}"""));
        (await ack.ReadAsync(MedicJson.Default.IncidentResponse)).AcknowledgedBy.ShouldBe("user:admin");
        using var resolve = await server.Admin.PostAsync($"/api/v1/incidents/{created.Id}/resolve", Json.Raw("""{"comment":"cache warmed"}"""));
        var resolved = await resolve.ReadAsync(MedicJson.Default.IncidentResponse);
        resolved.Status.ToText().ShouldBe("resolved");
        resolved.Resolution.ShouldBe("resolved by user:admin: cache warmed");

        using var show = await server.Admin.GetAsync($"/api/v1/incidents/{created.Id}");
        var detail = await show.ReadAsync(MedicJson.Default.IncidentDetailResponse);
        // The pipeline's triage note ("no rule proposes a recipe") lands whenever its job runs; the person's steps are in order around it.
        var people = detail.Timeline.Where(e => e.Actor != "system:pipeline").ToList();
        people.Select(e => (e.Kind, e.Actor)).ShouldBe([("opened", "user:admin"), ("comment", "user:admin"), ("acknowledged", "user:admin"), ("resolved", "user:admin")]);
        people[1].Message.ShouldBe("cache hit rate fell at 10:02");
        using var audit = await server.Admin.GetAsync("/api/v1/audit?limit=500");
        var actions = (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.Where(e => e.Target == "incident:" + created.Id).Select(e => e.Action).Reverse();
        actions.ShouldBe(["incident.create", "incident.comment", "incident.acknowledge", "incident.resolve"]);

        using var none = await server.Admin.GetAsync("/api/v1/incidents?status=active");
        (await none.ReadAsync(MedicJson.Default.IncidentPage)).Items.ShouldBeEmpty();
    }

    [Fact]
    public async Task Lists_page_newest_first()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await CreateAsync(server.Admin, $$"""{"title":"incident {{i}}"}""")).Id);

        using var first = await server.Admin.GetAsync("/api/v1/incidents?limit=2");
        var page = await first.ReadAsync(MedicJson.Default.IncidentPage);
        page.Items.Select(i => i.Id).ShouldBe([ids[2], ids[1]]);
        page.NextBefore.ShouldBe(ids[1]);
        using var second = await server.Admin.GetAsync($"/api/v1/incidents?limit=2&before={page.NextBefore}");
        var rest = await second.ReadAsync(MedicJson.Default.IncidentPage);
        rest.Items.Select(i => i.Id).ShouldBe([ids[0]]);
        rest.NextBefore.ShouldBeNull();
    }

    [Theory]
    [InlineData("GET", "/api/v1/incidents?status=sleeping", null, HttpStatusCode.BadRequest, "status")]
    [InlineData("GET", "/api/v1/incidents?severity=urgent", null, HttpStatusCode.BadRequest, "severity")]
    [InlineData("GET", "/api/v1/incidents?limit=0", null, HttpStatusCode.BadRequest, "limit")]
    [InlineData("GET", "/api/v1/incidents?since=yesterday", null, HttpStatusCode.BadRequest, "since")]
    [InlineData("POST", "/api/v1/incidents", """{"title":""}""", HttpStatusCode.BadRequest, "title")]
    [InlineData("POST", "/api/v1/incidents", """{"title":"x","severity":"huge"}""", HttpStatusCode.BadRequest, "severity")]
    [InlineData("POST", "/api/v1/incidents", """{"title":"x","server":"nope"}""", HttpStatusCode.NotFound, "nope")]
    [InlineData("POST", "/api/v1/incidents", """{"title":"x","extra":1}""", HttpStatusCode.BadRequest, "extra")]
    [InlineData("GET", "/api/v1/incidents/inc_missing", null, HttpStatusCode.NotFound, "inc_missing")]
    [InlineData("POST", "/api/v1/incidents/inc_missing/resolve", "{}", HttpStatusCode.NotFound, "inc_missing")]
    public async Task Bad_requests_get_a_problem_that_names_the_fault(string method, string path, string? body, HttpStatusCode expected, string named)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : Json.Raw(body) };

        using var response = await server.Admin.SendAsync(request);

        var problem = await response.ShouldBeProblemAsync(expected);
        problem.ToJsonString().ShouldContain(named);
        ((string?)problem["remedy"]).ShouldNotBeNullOrEmpty();
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM incidents")).ShouldBe(0);
    }

    [Fact]
    public async Task A_viewer_may_read_but_not_open_or_resolve()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var incident = await CreateAsync(server.Admin, """{"title":"disk"}""");
        var viewer = await server.ClientForNewUserAsync(server.Admin, "vera", Role.Viewer);

        (await viewer.GetAsync($"/api/v1/incidents/{incident.Id}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await viewer.PostAsync("/api/v1/incidents", Json.Raw("""{"title":"x"}"""))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await viewer.PostAsync($"/api/v1/incidents/{incident.Id}/resolve", Json.Raw("{}"))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_live_feed_carries_the_callers_tenant_only(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        using var other = await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"globex","admin_username":"gadmin","admin_password":"globex-admin-password"}"""));
        other.StatusCode.ShouldBe(HttpStatusCode.Created);
        var globex = server.Client(await server.LogInAsync("gadmin", "globex-admin-password", "globex"));

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + server.AdminToken);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await socket.ConnectAsync(new Uri(server.BaseAddress.ToString().Replace("http", "ws", StringComparison.Ordinal) + "ws/incidents"), timeout.Token);

        await CreateAsync(globex, """{"title":"globex only"}""");
        var mine = await CreateAsync(server.Admin, """{"title":"default tenant"}""");
        // A webhook or agent signal goes through the same feed.
        var tenantId = (await server.Database.QueryAsync<string>("SELECT tenant_id FROM incidents WHERE id = @id", new { id = mine.Id })).Single();
        await server.Service<IIncidentIngest>().IngestAsync(
            [new IncidentSignal(tenantId, IncidentSources.Generic, "fp-1", "alert", "warning", "from a webhook", null, null, null, new Dictionary<string, string>(), null, false, DateTimeOffset.UtcNow, "webhook:generic")],
            CancellationToken.None);

        var received = new List<IncidentFeedMessage>();
        var buffer = new byte[64 * 1024];
        while (received.Count < 2)
        {
            var r = await socket.ReceiveAsync(buffer, timeout.Token);
            received.Add(JsonSerializer.Deserialize(buffer.AsSpan(0, r.Count), MedicJson.Default.IncidentFeedMessage)!);
        }

        received.Select(m => (m.Action, m.Incident.Title)).ShouldBe([("created", "default tenant"), ("created", "from a webhook")]);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
    }
}
