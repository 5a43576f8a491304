using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Hosting;

/// <summary>
/// Whatever a client sends, the answer is a 4xx problem that says what was wrong and what to do
/// (never a 500), nothing stored changes, and a refused call by a known caller is audited as such.
/// </summary>
public sealed class BadInputTests
{
    public sealed record Case(string Name, string Method, string Path, Func<HttpContent?> Body, HttpStatusCode Expected, bool Authenticated = true, string? DetailMentions = null)
    {
        public override string ToString() => Name;
    }

    private static Func<HttpContent?> JsonText(string json) => () => Json.Raw(json);

    private static readonly Dictionary<string, Case> Cases = new Case[]
    {
        new("malformed JSON", "POST", "/api/v1/users", JsonText("""{"username": "bob", """), HttpStatusCode.BadRequest),
        new("JSON array instead of an object", "POST", "/api/v1/users", JsonText("[]"), HttpStatusCode.BadRequest),
        new("unknown field", "POST", "/api/v1/users", JsonText("""{"username":"bob","colour":"red"}"""), HttpStatusCode.BadRequest, DetailMentions: "colour"),
        new("wrong type", "POST", "/api/v1/users", JsonText("""{"username":42}"""), HttpStatusCode.BadRequest, DetailMentions: "username"),
        new("unknown role name", "POST", "/api/v1/users", JsonText("""{"username":"bob","role":"root"}"""), HttpStatusCode.BadRequest),
        new("role given as a number", "POST", "/api/v1/users", JsonText("""{"username":"bob","role":3}"""), HttpStatusCode.BadRequest),
        new("role given as an undefined number", "POST", "/api/v1/users", JsonText("""{"username":"bob","role":99}"""), HttpStatusCode.BadRequest),
        new("missing required field", "POST", "/api/v1/users", JsonText("{}"), HttpStatusCode.BadRequest, DetailMentions: "username"),
        new("required field null", "POST", "/api/v1/users", JsonText("""{"username":null}"""), HttpStatusCode.BadRequest, DetailMentions: "username"),
        new("over-long username", "POST", "/api/v1/users", JsonText($$"""{"username":"{{new string('u', 65)}}"}"""), HttpStatusCode.BadRequest, DetailMentions: "limit is 64"),
        new("over-long display name", "POST", "/api/v1/users", JsonText($$"""{"username":"bob","display_name":"{{new string('d', 201)}}"}"""), HttpStatusCode.BadRequest, DetailMentions: "display_name"),
        new("NUL character in a text field", "POST", "/api/v1/users", JsonText("""{"username":"bob","display_name":"Bob\u0000"}"""), HttpStatusCode.BadRequest, DetailMentions: "display_name"),
        new("empty body", "POST", "/api/v1/users", () => Json.Raw(""), HttpStatusCode.BadRequest),
        new("no body", "POST", "/api/v1/users", () => null, HttpStatusCode.BadRequest),
        new("text/plain body", "POST", "/api/v1/users", () => Json.Raw("""{"username":"bob"}""", "text/plain"), HttpStatusCode.UnsupportedMediaType, DetailMentions: "text/plain"),
        new("invalid UTF-8", "POST", "/api/v1/users", () => Bytes([(byte)'{', (byte)'"', 0xff, 0xfe, (byte)'"', (byte)':', (byte)'1', (byte)'}']), HttpStatusCode.BadRequest),
        new("body over 1 MiB", "POST", "/api/v1/users", JsonText($$"""{"username":"bob","display_name":"{{new string('x', 1024 * 1024)}}"}"""), HttpStatusCode.RequestEntityTooLarge, DetailMentions: "1 MiB"),
        new("no credentials", "POST", "/api/v1/users", JsonText("""{"username":"bob"}"""), HttpStatusCode.Unauthorized, Authenticated: false),
        new("unknown role in set-role", "PUT", "/api/v1/users/admin/role", JsonText("""{"role":"root"}"""), HttpStatusCode.BadRequest),
        new("missing role in set-role", "PUT", "/api/v1/users/admin/role", JsonText("{}"), HttpStatusCode.BadRequest, DetailMentions: "role"),
        new("role number in set-role", "PUT", "/api/v1/users/admin/role", JsonText("""{"role":99}"""), HttpStatusCode.BadRequest),
        new("token lifetime not a duration", "POST", "/api/v1/tokens", JsonText("""{"name":"ci","expires_in":"forever"}"""), HttpStatusCode.BadRequest, DetailMentions: "expires_in"),
        new("token role number", "POST", "/api/v1/tokens", JsonText("""{"name":"ci","role":99}"""), HttpStatusCode.BadRequest),
        new("token name with NUL", "POST", "/api/v1/tokens", JsonText("""{"name":"ci\u0000"}"""), HttpStatusCode.BadRequest, DetailMentions: "name"),
        new("over-long token name", "POST", "/api/v1/tokens", JsonText($$"""{"name":"{{new string('n', 101)}}"}"""), HttpStatusCode.BadRequest, DetailMentions: "name"),
        new("tenant slug with capitals", "POST", "/api/v1/tenants", JsonText("""{"slug":"Not-A-Slug"}"""), HttpStatusCode.BadRequest, DetailMentions: "slug"),
        new("tenant name with NUL", "POST", "/api/v1/tenants", JsonText("""{"slug":"nul","name":"a\u0000b"}"""), HttpStatusCode.BadRequest, DetailMentions: "name"),
        new("login without password", "POST", "/api/v1/auth/token", JsonText("""{"username":"admin"}"""), HttpStatusCode.BadRequest, Authenticated: false),
        new("login with NUL in username", "POST", "/api/v1/auth/token", JsonText("""{"username":"adm\u0000in","password":"whatever-password"}"""), HttpStatusCode.BadRequest, Authenticated: false),
        new("login with over-long password", "POST", "/api/v1/auth/token", JsonText($$"""{"username":"admin","password":"{{new string('p', 1001)}}"}"""), HttpStatusCode.BadRequest, Authenticated: false),
        new("enrollment token with zero uses", "POST", "/api/v1/enrollment-tokens", JsonText("""{"uses":0}"""), HttpStatusCode.BadRequest, DetailMentions: "uses"),
        new("enrollment token with a bad tag key", "POST", "/api/v1/enrollment-tokens", JsonText("""{"tags":{"Bad Key":"x"}}"""), HttpStatusCode.BadRequest, DetailMentions: "tag key"),
        new("server tags with a bad value", "PUT", "/api/v1/servers/web-1/tags", JsonText("""{"tags":{"env":"prod\u0000"}}"""), HttpStatusCode.BadRequest, DetailMentions: "tag value"),
        new("enroll with an unknown token", "POST", "/agent/v1/enroll", JsonText("""{"token":"mde_unknown","name":"web-1"}"""), HttpStatusCode.Unauthorized, Authenticated: false, DetailMentions: "not known"),
        new("enroll with a NUL in the name", "POST", "/agent/v1/enroll", JsonText("""{"token":"mde_unknown","name":"web\u0000"}"""), HttpStatusCode.BadRequest, Authenticated: false, DetailMentions: "name"),
        new("exec command with NUL", "POST", "/api/v1/exec", JsonText("""{"command":"ls\u0000","selector":{"all":true}}"""), HttpStatusCode.BadRequest, DetailMentions: "command"),
        new("exec without a selector criterion", "POST", "/api/v1/exec", JsonText("""{"command":"ls","selector":{}}"""), HttpStatusCode.BadRequest, DetailMentions: "selector"),
        new("audit limit out of range", "GET", "/api/v1/audit?limit=0", () => null, HttpStatusCode.BadRequest, DetailMentions: "limit"),
        new("audit since not a time", "GET", "/api/v1/audit?since=yesterday", () => null, HttpStatusCode.BadRequest, DetailMentions: "since"),
        new("audit actor with NUL", "GET", "/api/v1/audit?actor=user%3Aadmin%00", () => null, HttpStatusCode.BadRequest, DetailMentions: "actor"),
        new("audit verify all not a boolean", "GET", "/api/v1/audit/verify?all=maybe", () => null, HttpStatusCode.BadRequest),
        new("unknown route", "GET", "/api/v1/nothing-here", () => null, HttpStatusCode.NotFound, DetailMentions: "/api/v1/nothing-here"),
        new("method not allowed", "PATCH", "/api/v1/users", JsonText("{}"), HttpStatusCode.MethodNotAllowed, DetailMentions: "PATCH"),
    }.ToDictionary(c => c.Name);

    public static TheoryData<string, string> All()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in Cases.Keys)
        {
            data.Add(TestDatabase.Sqlite, name);
            data.Add(TestDatabase.Postgres, name);
        }

        return data;
    }

    private static ByteArrayContent Bytes(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task Bad_input_gets_a_4xx_problem_with_detail_and_remedy_and_changes_nothing(string dialect, string name)
    {
        var c = Cases[name];
        await using var server = await MedicServer.StartAsync(dialect);
        (await server.Admin.GetAsync("/api/v1/whoami")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var before = await StoredStateAsync(server);
        var auditBefore = await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log");

        using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Path) { Content = c.Body() };
        using var response = await (c.Authenticated ? server.Admin : server.Client()).SendAsync(request);

        var problem = await response.ShouldBeProblemAsync(c.Expected);
        if (c.DetailMentions is not null)
        {
            problem.Detail().ShouldContain(c.DetailMentions, Shouldly.Case.Insensitive);
        }

        server.Logs.ServerFaults.ShouldBeEmpty();
        (await StoredStateAsync(server)).ShouldBe(before);
        if (c.Method != "GET" && c.Authenticated && c.Expected != HttpStatusCode.NotFound && c.Expected != HttpStatusCode.MethodNotAllowed)
        {
            var newest = await NewestAuditEntryAsync(server);
            newest.Outcome.ShouldBe(AuditOutcomes.Rejected, $"the refusal must be audited as rejected: {newest}");
            newest.Details["status"].ShouldBe(((int)c.Expected).ToString(System.Globalization.CultureInfo.InvariantCulture));
            newest.Actor.ShouldBe("user:admin");
            newest.ClientAddress.ShouldBe("127.0.0.1");
        }
        else if (!c.Authenticated)
        {
            (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log")).ShouldBe(auditBefore, "anonymous refusals are not audited");
        }
    }

    private static async Task<string> StoredStateAsync(MedicServer server) =>
        await server.Database.SnapshotAsync("tenants")
        + await server.Database.SnapshotAsync("users")
        + await server.Database.SnapshotAsync("api_tokens")
        + await server.Database.SnapshotAsync("enrollment_tokens")
        + await server.Database.SnapshotAsync("nodes")
        + await server.Database.SnapshotAsync("executions");

    private static async Task<AuditEntry> NewestAuditEntryAsync(MedicServer server)
    {
        using var response = await server.Admin.GetAsync("/api/v1/audit?limit=1");
        return (await response.ReadAsync(MedicJson.Default.AuditPage)).Items.ShouldHaveSingleItem();
    }

    [Fact]
    public async Task A_NUL_byte_in_the_path_is_refused_by_the_HTTP_server_before_any_handler()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Postgres);

        using var response = await server.Admin.GetAsync("/api/v1/users/admin%00");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        server.Logs.ServerFaults.ShouldBeEmpty();
    }
}
