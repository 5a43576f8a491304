using System.Net;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Audit;

/// <summary>
/// Every mutating call leaves an entry saying who did what, how it ended and from where: the
/// successful ones, and the refused ones by a caller the server knows. Callers here connect from
/// 127.0.0.2 so the recorded address is shown to come from the connection.
/// </summary>
public sealed class AuditTrailTests
{
    private static readonly IPAddress Elsewhere = IPAddress.Parse("127.0.0.2");

    private static async Task<AuditEntry> NewestAsync(MedicServer server, string? chain = null)
    {
        using var response = await server.Admin.GetAsync("/api/v1/audit?limit=1" + (chain is null ? "" : "&chain=" + chain));
        return (await response.ReadAsync(MedicJson.Default.AuditPage)).Items.ShouldHaveSingleItem();
    }

    private static async Task<IReadOnlyList<AuditEntry>> ChainAsync(MedicServer server, string? chain = null)
    {
        using var response = await server.Admin.GetAsync("/api/v1/audit?limit=500" + (chain is null ? "" : "&chain=" + chain));
        return (await response.ReadAsync(MedicJson.Default.AuditPage)).Items;
    }

    private static void ShouldRecord(AuditEntry entry, string actor, string action, string outcome, string? target = null)
    {
        entry.Actor.ShouldBe(actor, entry.ToString());
        entry.Action.ShouldBe(action, entry.ToString());
        entry.Outcome.ShouldBe(outcome, entry.ToString());
        entry.ClientAddress.ShouldBe("127.0.0.2", entry.ToString());
        if (target is not null)
        {
            entry.Target.ShouldBe(target, entry.ToString());
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Each_successful_change_is_audited_with_actor_action_target_outcome_and_address(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var admin = server.Client(server.AdminToken, Elsewhere);

        using var create = await admin.PostAsync("/api/v1/users", Json.Raw("""{"username":"alice","role":"operator"}"""));
        var alice = (await create.ReadAsync(MedicJson.Default.UserCreatedResponse, HttpStatusCode.Created)).User;
        var created = await NewestAsync(server);
        using var setRole = await admin.PutAsync($"/api/v1/users/{alice.Id}/role", Json.Raw("""{"role":"approver"}"""));
        setRole.StatusCode.ShouldBe(HttpStatusCode.OK);
        var roleChanged = await NewestAsync(server);
        using var disable = await admin.PostAsync($"/api/v1/users/{alice.Id}/disable", null);
        disable.StatusCode.ShouldBe(HttpStatusCode.OK);
        var disabled = await NewestAsync(server);
        using var enable = await admin.PostAsync($"/api/v1/users/{alice.Id}/enable", null);
        enable.StatusCode.ShouldBe(HttpStatusCode.OK);
        var enabled = await NewestAsync(server);
        using var reset = await admin.PostAsync($"/api/v1/users/{alice.Id}/password", Json.Raw("{}"));
        var newPassword = (await reset.ReadAsync(MedicJson.Default.UserCreatedResponse)).GeneratedPassword.ShouldNotBeNull();
        var passwordReset = await NewestAsync(server);
        using var newToken = await admin.PostAsync("/api/v1/tokens", Json.Raw("""{"name":"ci"}"""));
        var token = (await newToken.ReadAsync(MedicJson.Default.TokenCreatedResponse, HttpStatusCode.Created)).Token;
        var tokenCreated = await NewestAsync(server);
        using var revoke = await admin.DeleteAsync($"/api/v1/tokens/{token.Id}");
        revoke.StatusCode.ShouldBe(HttpStatusCode.OK);
        var tokenRevoked = await NewestAsync(server);

        ShouldRecord(created, "user:admin", "user.create", AuditOutcomes.Success, $"user:{alice.Id}");
        created.Details["username"].ShouldBe("alice");
        created.Details["role"].ShouldBe("operator");
        ShouldRecord(roleChanged, "user:admin", "user.set_role", AuditOutcomes.Success, $"user:{alice.Id}");
        (roleChanged.Details["from"], roleChanged.Details["to"]).ShouldBe(("operator", "approver"));
        ShouldRecord(disabled, "user:admin", "user.disable", AuditOutcomes.Success, $"user:{alice.Id}");
        ShouldRecord(enabled, "user:admin", "user.enable", AuditOutcomes.Success, $"user:{alice.Id}");
        ShouldRecord(passwordReset, "user:admin", "user.reset_password", AuditOutcomes.Success, $"user:{alice.Id}");
        passwordReset.Details["generated"].ShouldBe("true");
        (await server.Database.DumpAllAsync()).ShouldNotContain(newPassword, Case.Sensitive, "the generated password is shown once and stored nowhere");
        ShouldRecord(tokenCreated, "user:admin", "token.create", AuditOutcomes.Success, $"token:{token.Id}");
        tokenCreated.Details["prefix"].ShouldBe(token.Prefix);
        ShouldRecord(tokenRevoked, "user:admin", "token.revoke", AuditOutcomes.Success, $"token:{token.Id}");
        var all = await ChainAsync(server);
        all.Select(e => e.Seq).ShouldBe(Enumerable.Range(1, all.Count).Select(i => (long)i).Reverse(), "one entry per change, no gaps");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_call_refused_for_lack_of_permission_is_audited_as_denied(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var (_, password) = await server.AddUserAsync(server.Admin, "vic", Role.Viewer);
        var viewer = server.Client(await server.LogInAsync("vic", password), Elsewhere);

        using var response = await viewer.PostAsync("/api/v1/users", Json.Raw("""{"username":"mallory","role":"admin"}"""));

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var entry = await NewestAsync(server);
        entry.Actor.ShouldBe("user:vic");
        entry.Action.ShouldStartWith("POST /api/v1/users");
        entry.Outcome.ShouldBe(AuditOutcomes.Denied);
        entry.ClientAddress.ShouldBe("127.0.0.2");
        entry.Details["status"].ShouldBe("403");
    }

    public static TheoryData<string, string, string, string?, int> RejectedCalls => new()
    {
        { "invalid field", "POST", "/api/v1/users", """{"username":"no spaces allowed"}""", 400 },
        { "malformed JSON", "POST", "/api/v1/tokens", """{"name":""", 400 },
        { "last admin demoted", "PUT", "/api/v1/users/admin/role", """{"role":"viewer"}""", 409 },
        { "unknown token revoked", "DELETE", "/api/v1/tokens/tok_does_not_exist", null, 404 },
        { "unknown user disabled", "POST", "/api/v1/users/nobody/disable", null, 404 },
        { "body not JSON", "POST", "/api/v1/tokens", null, 415 },
    };

    [Theory]
    [MemberData(nameof(RejectedCalls))]
    public async Task A_call_rejected_as_invalid_is_audited_as_rejected_with_its_status(string why, string method, string path, string? body, int status)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var admin = server.Client(server.AdminToken, Elsewhere);

        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = body is not null ? Json.Raw(body) : status == 415 ? Json.Raw("name=ci", "application/x-www-form-urlencoded") : null,
        };
        using var response = await admin.SendAsync(request);

        ((int)response.StatusCode).ShouldBe(status, why);
        var entry = await NewestAsync(server);
        entry.Actor.ShouldBe("user:admin", why);
        entry.Action.ShouldStartWith($"{method} /api/v1/", Case.Sensitive, why);
        entry.Outcome.ShouldBe(AuditOutcomes.Rejected, why);
        entry.ClientAddress.ShouldBe("127.0.0.2", why);
        entry.Details["status"].ShouldBe(status.ToString(System.Globalization.CultureInfo.InvariantCulture), why);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Logins_are_audited_whether_they_succeed_or_not(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var anonymous = server.Client(from: Elsewhere);

        using var good = await anonymous.PostAsync("/api/v1/auth/token", Json.Raw($$"""{"username":"admin","password":"{{MedicServer.AdminPassword}}"}"""));
        var issued = await good.ReadAsync(MedicJson.Default.TokenCreatedResponse);
        var entries = await ChainAsync(server);
        using var bad = await anonymous.PostAsync("/api/v1/auth/token", Json.Raw("""{"username":"admin","password":"guessing-wrong"}"""));
        bad.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var failed = await NewestAsync(server);

        ShouldRecord(entries[1], "user:admin", "auth.login", AuditOutcomes.Success, "user:admin");
        entries[1].Details["method"].ShouldBe("token");
        ShouldRecord(entries[0], "user:admin", "token.create", AuditOutcomes.Success, $"token:{issued.Token.Id}");
        ShouldRecord(failed, "user:admin", "auth.login", AuditOutcomes.Denied, "user:admin");
        failed.Details["reason"].ShouldBe("The username or password is wrong.");
    }

    [Fact]
    public async Task A_login_for_an_unknown_user_goes_to_the_system_chain()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        using var bad = await server.Client(from: Elsewhere).PostAsync("/api/v1/auth/token", Json.Raw("""{"username":"ghost","password":"guessing-wrong"}"""));

        bad.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        ShouldRecord(await NewestAsync(server, AuditLog.SystemChain), "user:ghost", "auth.login", AuditOutcomes.Denied);
    }

    [Fact]
    public async Task A_disabled_users_login_is_denied_and_the_audit_log_says_why()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var (user, password) = await server.AddUserAsync(server.Admin, "dora", Role.Viewer);
        (await server.Admin.PostAsync($"/api/v1/users/{user.Id}/disable", null)).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var login = await server.Client(from: Elsewhere).PostAsync("/api/v1/auth/token", Json.Raw($$"""{"username":"dora","password":"{{password}}"}"""));

        login.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var entry = await NewestAsync(server);
        ShouldRecord(entry, "user:dora", "auth.login", AuditOutcomes.Denied);
        entry.Details["reason"].ShouldBe("the user is disabled");
    }

    [Fact]
    public async Task Creating_a_tenant_is_audited_in_the_system_chain_and_in_the_new_tenants_chain()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var admin = server.Client(server.AdminToken, Elsewhere);

        using var create = await admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"acme","admin_username":"boss","admin_password":"boss-password-123"}"""));
        var tenant = (await create.ReadAsync(MedicJson.Default.TenantCreatedResponse, HttpStatusCode.Created)).Tenant;
        var system = await NewestAsync(server, AuditLog.SystemChain);
        var boss = server.Client(await server.LogInAsync("boss", "boss-password-123", "acme"));
        using var acmeAudit = await boss.GetAsync("/api/v1/audit?limit=10");
        var acme = (await acmeAudit.ReadAsync(MedicJson.Default.AuditPage)).Items.OrderBy(e => e.Seq).ToList();

        ShouldRecord(system, "user:admin", "tenant.create", AuditOutcomes.Success, $"tenant:{tenant.Id}");
        ShouldRecord(acme[0], "user:admin", "tenant.create", AuditOutcomes.Success, $"tenant:{tenant.Id}");
        ShouldRecord(acme[1], "user:admin", "user.create", AuditOutcomes.Success);
        acme[1].Details["username"].ShouldBe("boss");
        acme.ShouldAllBe(e => e.Chain == tenant.Id);
    }

    [Fact]
    public async Task Refusals_of_anonymous_callers_are_not_written()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var before = await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log");

        using var response = await server.Client(from: Elsewhere).PostAsync("/api/v1/users", Json.Raw("""{"username":"mallory"}"""));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log")).ShouldBe(before);
    }
}
