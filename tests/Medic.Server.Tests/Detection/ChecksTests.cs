using System.Net;
using System.Net.Sockets;
using Medic.Contracts;
using Medic.Server.Detection.Checks;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Detection;

/// <summary>Scheduled checks: failures in a row open an incident, the first pass resolves it; bad definitions are refused.</summary>
public sealed class ChecksTests
{
    private static async Task<CheckResponse> CreateAsync(HttpClient client, string json)
    {
        using var response = await client.PostAsync("/api/v1/checks", Json.Raw(json));
        return await response.ReadAsync(MedicJson.Default.CheckResponse, HttpStatusCode.Created);
    }

    /// <summary>A new check is due at once: wait for the scheduler's first run so it cannot interleave with the test's own runs.</summary>
    private static async Task<CheckResponse> FirstRunAsync(HttpClient client, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            using var response = await client.GetAsync($"/api/v1/checks/{id}");
            var check = (await response.ReadAsync(MedicJson.Default.CheckDetailResponse)).Check;
            if (check.LastRunAt is not null) return check;
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the scheduler did not run the new check");
            await Task.Delay(50);
        }
    }

    private static async Task<CheckDetailResponse> RunAsync(HttpClient client, string id)
    {
        using var response = await client.PostAsync($"/api/v1/checks/{id}/run", null);
        return await response.ReadAsync(MedicJson.Default.CheckDetailResponse);
    }

    private static async Task<IReadOnlyList<IncidentResponse>> CheckIncidentsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/v1/incidents?source=check");
        return (await response.ReadAsync(MedicJson.Default.IncidentPage)).Items;
    }

    [Theory]
    [InlineData(CheckState.Pending, 0, 2, true, CheckState.Passing, 0, CheckSignal.None)]
    [InlineData(CheckState.Passing, 0, 2, false, CheckState.Passing, 1, CheckSignal.None)]
    [InlineData(CheckState.Passing, 1, 2, false, CheckState.Failing, 2, CheckSignal.Fire)]
    [InlineData(CheckState.Pending, 0, 1, false, CheckState.Failing, 1, CheckSignal.Fire)]
    [InlineData(CheckState.Failing, 2, 2, false, CheckState.Failing, 3, CheckSignal.Repeat)]
    [InlineData(CheckState.Failing, 5, 2, true, CheckState.Passing, 0, CheckSignal.Resolve)]
    [InlineData(CheckState.Passing, 1, 3, true, CheckState.Passing, 0, CheckSignal.None)]
    public void A_run_moves_the_check_and_decides_its_incident(CheckState state, int failures, int threshold, bool ok, CheckState nextState, int nextFailures, CheckSignal signal) =>
        CheckVerdict.Next(state, failures, threshold, ok).ShouldBe((nextState, nextFailures, signal));

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_http_check_opens_an_incident_after_failures_in_a_row_and_resolves_on_the_first_pass(string dialect)
    {
        await using var site = await TinyHttpServer.StartAsync();
        await using var server = await MedicServer.StartAsync(dialect, o => o.Checks.SweepSeconds = 3600);
        var check = await CreateAsync(server.Admin, $$"""{"name":"shop","kind":"http","target":"{{site.Address}}health","body_regex":"^ok$","interval":"1d","failures":2,"severity":"critical"}""");

        (await FirstRunAsync(server.Admin, check.Id)).State.ShouldBe(CheckState.Passing);
        site.Status = 503;
        var first = await RunAsync(server.Admin, check.Id);
        first.Check.ConsecutiveFailures.ShouldBe(1);
        first.Results[0].Detail.ShouldContain("HTTP 503");
        (await CheckIncidentsAsync(server.Admin)).ShouldBeEmpty();
        (await RunAsync(server.Admin, check.Id)).Check.State.ShouldBe(CheckState.Failing);

        var open = (await CheckIncidentsAsync(server.Admin)).ShouldHaveSingleItem();
        // No triage rule matches a failing http check, so triage escalates it (at once, or a moment later).
        open.Status.ShouldBeOneOf(IncidentStatus.Open, IncidentStatus.Escalated);
        open.Severity.ShouldBe("critical");
        open.Title.ShouldBe("Check shop is failing");
        open.Evidence!["detail"].ShouldContain("HTTP 503");

        site.Status = 200;
        site.Body = "not ok";
        (await RunAsync(server.Admin, check.Id)).Results[0].Detail.ShouldContain("does not match");
        site.Body = "ok";
        (await RunAsync(server.Admin, check.Id)).Check.State.ShouldBe(CheckState.Passing);
        var resolved = (await CheckIncidentsAsync(server.Admin)).ShouldHaveSingleItem();
        resolved.Status.ToText().ShouldBe("resolved");
        resolved.SignalCount.ShouldBe(3);

        using var detail = await server.Admin.GetAsync("/api/v1/checks/shop");
        // Newest first: the scheduler's first run, then the four above.
        (await detail.ReadAsync(MedicJson.Default.CheckDetailResponse)).Results.Select(r => r.Ok).ShouldBe([true, false, false, false, true]);
    }

    [Fact]
    public async Task A_check_url_is_never_written_to_the_log_since_its_path_may_carry_a_token()
    {
        await using var site = await TinyHttpServer.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.Checks.SweepSeconds = 3600);
        var check = await CreateAsync(server.Admin, $$"""{"name":"tokened","kind":"http","target":"{{site.Address}}health/very-secret-path","interval":"1d"}""");

        site.Status = 500;
        await FirstRunAsync(server.Admin, check.Id);
        await RunAsync(server.Admin, check.Id);

        site.Requests.ShouldBeGreaterThanOrEqualTo(2);
        server.Logs.Lines.Where(l => l.ToString().Contains("very-secret-path", StringComparison.Ordinal)).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_tcp_check_passes_on_a_listening_port_and_fails_on_a_closed_one()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.Checks.SweepSeconds = 3600);
        var check = await CreateAsync(server.Admin, $$"""{"name":"db","kind":"tcp","target":"127.0.0.1:{{port}}","interval":"1d","failures":1}""");

        (await FirstRunAsync(server.Admin, check.Id)).State.ShouldBe(CheckState.Passing);
        listener.Stop();
        var failed = await RunAsync(server.Admin, check.Id);
        failed.Results[0].Ok.ShouldBeFalse();
        failed.Results[0].Detail.ShouldContain("refused", Case.Insensitive);
        (await CheckIncidentsAsync(server.Admin)).ShouldHaveSingleItem().Status.ShouldBeOneOf(IncidentStatus.Open, IncidentStatus.Escalated); // no triage rule: escalated at once or a moment later
    }

    [Fact]
    public async Task A_command_check_on_a_server_whose_agent_is_away_fails_with_the_reason()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.Checks.SweepSeconds = 3600);
        using var token = await server.Admin.PostAsync("/api/v1/enrollment-tokens", Json.Raw("{}"));
        var secret = (await token.ReadAsync(MedicJson.Default.EnrollmentTokenCreatedResponse, HttpStatusCode.Created)).Secret;
        (await server.Client().PostAsync("/agent/v1/enroll", Json.Raw($$"""{"token":"{{secret}}","name":"web-1"}"""))).StatusCode.ShouldBe(HttpStatusCode.OK);
        var check = await CreateAsync(server.Admin, """{"name":"nginx-active","kind":"command","server":"web-1","command":"systemctl is-active nginx","interval":"1d","failures":1}""");
        check.Server.ShouldBe("web-1");

        var result = await RunAsync(server.Admin, check.Id);

        result.Results[0].Detail.ShouldBe("offline: the server's agent is not connected");
        var incident = (await CheckIncidentsAsync(server.Admin)).ShouldHaveSingleItem();
        incident.Server.ShouldBe("web-1");
    }

    [Fact]
    public async Task A_command_check_reaches_an_agentless_server_over_ssh()
    {
        await using var sshd = await Sshd.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.Checks.SweepSeconds = 3600);
        Fleet.AgentlessServerTests.InstallKey(server, "deploy", sshd.UserKey);
        await Fleet.AgentlessServerTests.AddAsync(server.Admin, "legacy-1", sshd.Address, "deploy", hostKey: sshd.HostKey);
        var marker = Path.Combine(Path.GetTempPath(), "medic-check-" + Guid.NewGuid().ToString("N"));
        var check = await CreateAsync(server.Admin, $$"""{"name":"marker","kind":"command","server":"legacy-1","command":"test -f {{marker}} && echo present","interval":"1d","failures":1}""");
        await FirstRunAsync(server.Admin, check.Id);

        var missing = await RunAsync(server.Admin, check.Id);
        missing.Results[0].Ok.ShouldBeFalse();
        missing.Results[0].Detail.ShouldStartWith("exit 1");
        (await CheckIncidentsAsync(server.Admin)).ShouldHaveSingleItem().Server.ShouldBe("legacy-1");

        await File.WriteAllTextAsync(marker, "x");
        try
        {
            var present = await RunAsync(server.Admin, check.Id);
            present.Results[0].Detail.ShouldBe("exit 0: present");
            (await CheckIncidentsAsync(server.Admin)).ShouldHaveSingleItem().Status.ToText().ShouldBe("resolved");
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task The_scheduler_runs_a_new_check_without_being_asked()
    {
        await using var site = await TinyHttpServer.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var check = await CreateAsync(server.Admin, $$"""{"name":"auto","kind":"http","target":"{{site.Address}}","interval":"1d"}""");

        var now = await FirstRunAsync(server.Admin, check.Id);

        now.State.ShouldBe(CheckState.Passing);
        site.Requests.ShouldBe(1);
        now.NextRunAt.ShouldBeGreaterThan(DateTimeOffset.UtcNow.AddHours(23));
    }

    [Theory]
    [InlineData("""{"name":"x","kind":"ping","target":"a"}""", HttpStatusCode.BadRequest, "kind")]
    [InlineData("""{"name":"Bad Name","kind":"tcp","target":"a:1"}""", HttpStatusCode.BadRequest, "name")]
    [InlineData("""{"name":"x","kind":"http","target":"ftp://example.com"}""", HttpStatusCode.BadRequest, "target")]
    [InlineData("""{"name":"x","kind":"tcp","target":"db-1"}""", HttpStatusCode.BadRequest, "target")]
    [InlineData("""{"name":"x","kind":"tcp","target":"db-1:99999"}""", HttpStatusCode.BadRequest, "target")]
    [InlineData("""{"name":"x","kind":"command","command":"true"}""", HttpStatusCode.BadRequest, "server")]
    [InlineData("""{"name":"x","kind":"command","server":"nope","command":"true"}""", HttpStatusCode.NotFound, "nope")]
    [InlineData("""{"name":"x","kind":"http","target":"http://a/","body_regex":"(("}""", HttpStatusCode.BadRequest, "body_regex")]
    [InlineData("""{"name":"x","kind":"http","target":"http://a/","interval":"1s"}""", HttpStatusCode.BadRequest, "interval")]
    [InlineData("""{"name":"x","kind":"http","target":"http://a/","interval":"30s","timeout_seconds":60}""", HttpStatusCode.BadRequest, "timeout_seconds")]
    [InlineData("""{"name":"x","kind":"tcp","target":"a:1","failures":0}""", HttpStatusCode.BadRequest, "failures")]
    [InlineData("""{"name":"x","kind":"tcp","target":"a:1","expect_status":200}""", HttpStatusCode.BadRequest, "expect_status")]
    public async Task Bad_definitions_are_refused_with_the_field_named(string body, HttpStatusCode expected, string named)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.Checks.SweepSeconds = 3600);

        using var response = await server.Admin.PostAsync("/api/v1/checks", Json.Raw(body));

        (await response.ShouldBeProblemAsync(expected)).ToJsonString().ShouldContain(named);
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM checks")).ShouldBe(0);
    }

    [Fact]
    public async Task Names_are_unique_per_tenant_and_operators_cannot_add_checks()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.Checks.SweepSeconds = 3600);
        await CreateAsync(server.Admin, """{"name":"db","kind":"tcp","target":"127.0.0.1:1","interval":"1d"}""");

        using var again = await server.Admin.PostAsync("/api/v1/checks", Json.Raw("""{"name":"db","kind":"tcp","target":"127.0.0.1:2"}"""));
        await again.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var operatorClient = await server.ClientForNewUserAsync(server.Admin, "otto", Role.Operator);
        (await operatorClient.PostAsync("/api/v1/checks", Json.Raw("""{"name":"x","kind":"tcp","target":"127.0.0.1:1"}"""))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        using var removed = await server.Admin.DeleteAsync("/api/v1/checks/db");
        removed.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var list = await server.Admin.GetAsync("/api/v1/checks");
        (await list.ReadAsync(MedicJson.Default.IReadOnlyListCheckResponse)).ShouldBeEmpty();
    }
}
