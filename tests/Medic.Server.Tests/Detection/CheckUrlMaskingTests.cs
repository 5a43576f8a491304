using System.Net;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Detection;

public sealed class CheckUrlMaskingTests
{
    private const string Password = "hunter2-pw";
    private const string PathToken = "5f2a9c1e-8d7b-4e3a-9f10-2b6c7d8e9f01";
    private const string QueryToken = "s3cr3tT0kenValue";
    private static readonly string Target = $"http://ops:{Password}@127.0.0.1:9/ping/{PathToken}?token={QueryToken}&region=eu";

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_viewer_sees_credentials_in_a_check_URL_masked_and_the_audit_log_never_holds_them(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, o => o.Checks.SweepSeconds = 3600);
        var viewer = await server.ClientForNewUserAsync(server.Admin, "vera", Role.Viewer);
        using var create = await server.Admin.PostAsync("/api/v1/checks",
            Json.Raw($$"""{"name":"ping","kind":"http","target":"{{Target}}","failures":1,"timeout_seconds":2}"""));
        var check = await create.ReadAsync(MedicJson.Default.CheckResponse, HttpStatusCode.Created);
        using var run = await server.Admin.PostAsync($"/api/v1/checks/{check.Id}/run", null);
        run.StatusCode.ShouldBe(HttpStatusCode.OK);

        using var list = await viewer.GetAsync("/api/v1/checks");
        using var one = await viewer.GetAsync($"/api/v1/checks/{check.Id}");
        using var incidents = await viewer.GetAsync("/api/v1/incidents?source=check");
        using var asAdmin = await server.Admin.GetAsync($"/api/v1/checks/{check.Id}");

        var seen = (await list.ReadAsync(MedicJson.Default.IReadOnlyListCheckResponse)).Single().Target.ShouldNotBeNull();
        seen.ShouldBe("http://ops:***@127.0.0.1:9/ping/***?token=***&region=eu");
        foreach (var body in new[] { await list.Content.ReadAsStringAsync(), await one.Content.ReadAsStringAsync(), await incidents.Content.ReadAsStringAsync() })
        {
            body.ShouldNotContain(Password);
            body.ShouldNotContain(PathToken);
            body.ShouldNotContain(QueryToken);
        }

        (await asAdmin.ReadAsync(MedicJson.Default.CheckDetailResponse)).Check.Target.ShouldBe(Target, "the admin who manages the check sees it as written");
        var audit = await server.Database.SnapshotAsync("audit_log");
        audit.ShouldContain("check.create");
        audit.ShouldNotContain(Password);
        audit.ShouldNotContain(PathToken);
        audit.ShouldNotContain(QueryToken);
    }

    [Fact]
    public async Task A_call_the_audit_middleware_records_has_a_token_in_its_path_masked()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        const string secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";

        using var response = await server.Admin.PostAsync($"/api/v1/checks/{secret}/run", null);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var targets = await server.Database.QueryAsync<string>("SELECT target FROM audit_log WHERE action LIKE 'POST /api/v1/checks/%'");
        targets.ShouldBe(["/api/v1/checks/***/run"]);

        // Medic's own ids name what was acted on and are no secret: they stay.
        var id = Medic.Server.Common.Ids.New("apr");
        using var approve = await server.Admin.PostAsync($"/api/v1/approvals/{id}/approve", null);
        (await server.Database.QueryAsync<string>("SELECT target FROM audit_log WHERE action LIKE 'POST /api/v1/approvals/%'")).ShouldBe([$"/api/v1/approvals/{id}/approve"]);
    }
}
