using System.Net;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Auth;

public sealed class UserTests
{
    private static StringContent NewUser(string username, Role? role = null, string? password = null, string? displayName = null) =>
        Json.Body(new CreateUserRequest(username, role, password, displayName), MedicJson.Default.CreateUserRequest);

    private static StringContent RoleBody(Role role) => Json.Body(new SetRoleRequest(role), MedicJson.Default.SetRoleRequest);

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_admin_adds_a_user_with_a_generated_password_that_logs_in(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);

        using var response = await server.Admin.PostAsync("/api/v1/users", NewUser("alice", Role.Operator, displayName: "Alice A."));
        var created = await response.ReadAsync(MedicJson.Default.UserCreatedResponse, HttpStatusCode.Created);
        var aliceToken = await server.LogInAsync("alice", created.GeneratedPassword!);
        using var whoami = await server.Client(aliceToken).GetAsync("/api/v1/whoami");

        response.Headers.Location.ShouldNotBeNull().ToString().ShouldBe($"/api/v1/users/{created.User.Id}");
        created.User.Username.ShouldBe("alice");
        created.User.DisplayName.ShouldBe("Alice A.");
        created.User.Role.ShouldBe(Role.Operator);
        created.User.Superadmin.ShouldBeFalse();
        created.User.Disabled.ShouldBeFalse();
        created.GeneratedPassword.ShouldNotBeNull().Length.ShouldBe(20);
        var me = await whoami.ReadAsync(MedicJson.Default.WhoAmIResponse);
        (me.Username, me.Role, me.TenantSlug, me.Superadmin).ShouldBe(("alice", Role.Operator, "default", false));
        (await server.Database.DumpAllAsync()).ShouldNotContain(created.GeneratedPassword, Case.Sensitive, "passwords are stored hashed");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Users_are_listed_and_found_by_id_or_username(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var (bob, _) = await server.AddUserAsync(server.Admin, "bob", Role.Viewer);

        using var list = await server.Admin.GetAsync("/api/v1/users");
        using var byId = await server.Admin.GetAsync($"/api/v1/users/{bob.Id}");
        using var byName = await server.Admin.GetAsync("/api/v1/users/bob");
        using var missing = await server.Admin.GetAsync("/api/v1/users/nobody");

        (await list.ReadAsync(MedicJson.Default.IReadOnlyListUserResponse)).Select(u => (u.Username, u.Role)).ShouldBe([("admin", Role.Admin), ("bob", Role.Viewer)]);
        (await byId.ReadAsync(MedicJson.Default.UserResponse)).Username.ShouldBe("bob");
        (await byName.ReadAsync(MedicJson.Default.UserResponse)).Id.ShouldBe(bob.Id);
        (await missing.ShouldBeProblemAsync(HttpStatusCode.NotFound)).Detail().ShouldContain("nobody");
    }

    [Fact]
    public async Task A_user_given_a_password_gets_none_generated()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        using var response = await server.Admin.PostAsync("/api/v1/users", NewUser("carol", Role.Approver, "carol-chose-this"));

        var created = await response.ReadAsync(MedicJson.Default.UserCreatedResponse, HttpStatusCode.Created);
        created.GeneratedPassword.ShouldBeNull();
        (await server.LogInAsync("carol", "carol-chose-this")).ShouldStartWith("mdk_");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Adding_a_username_that_exists_is_409_and_keeps_the_first_user(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var (dave, _) = await server.AddUserAsync(server.Admin, "dave", Role.Viewer);
        var before = await server.Database.SnapshotAsync("users");

        using var response = await server.Admin.PostAsync("/api/v1/users", NewUser("dave", Role.Admin));

        (await response.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("'dave' already exists");
        (await server.Database.SnapshotAsync("users")).ShouldBe(before);
        dave.Role.ShouldBe(Role.Viewer);
    }

    [Fact]
    public async Task A_password_shorter_than_12_characters_is_refused()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        using var response = await server.Admin.PostAsync("/api/v1/users", NewUser("erin", Role.Viewer, "short"));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem["errors"]!["password"]!.AsArray().Select(e => (string?)e).ShouldContain("must be at least 12 characters");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Changing_a_role_applies_to_the_users_next_login(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var (frank, password) = await server.AddUserAsync(server.Admin, "frank", Role.Viewer);

        using var response = await server.Admin.PutAsync($"/api/v1/users/{frank.Id}/role", RoleBody(Role.Approver));
        using var whoami = await server.Client(await server.LogInAsync("frank", password)).GetAsync("/api/v1/whoami");

        (await response.ReadAsync(MedicJson.Default.UserResponse)).Role.ShouldBe(Role.Approver);
        (await whoami.ReadAsync(MedicJson.Default.WhoAmIResponse)).Role.ShouldBe(Role.Approver);
        (await server.Database.ScalarAsync<string>("SELECT role FROM users WHERE id = @id", new { id = frank.Id })).ShouldBe("approver");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_disabled_users_token_and_password_stop_working_until_enabled(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var (gina, password) = await server.AddUserAsync(server.Admin, "gina", Role.Operator);
        var ginasToken = server.Client(await server.LogInAsync("gina", password));

        using var disable = await server.Admin.PostAsync($"/api/v1/users/{gina.Id}/disable", null);
        using var tokenWhileDisabled = await ginasToken.GetAsync("/api/v1/whoami");
        using var loginWhileDisabled = await server.Client().PostAsync("/api/v1/auth/token",
            Json.Body(new TokenLoginRequest("gina", password, null, null, null), MedicJson.Default.TokenLoginRequest));
        using var enable = await server.Admin.PostAsync($"/api/v1/users/{gina.Id}/enable", null);
        using var tokenAfterEnable = await ginasToken.GetAsync("/api/v1/whoami");

        (await disable.ReadAsync(MedicJson.Default.UserResponse)).Disabled.ShouldBeTrue();
        (await tokenWhileDisabled.ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail().ShouldContain("'gina' is disabled");
        (await loginWhileDisabled.ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail().ShouldBe("The username or password is wrong.", "a disabled user learns no more than from a wrong password");
        (await enable.ReadAsync(MedicJson.Default.UserResponse)).Disabled.ShouldBeFalse();
        tokenAfterEnable.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_disabled_users_console_session_ends_at_once(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var (hugo, password) = await server.AddUserAsync(server.Admin, "hugo", Role.Viewer);
        var session = await ConsoleSession.SignInAsync(server, "hugo", password);
        (await session.GetPageAsync("/")).ShouldContain("title=\"Signed in as hugo in tenant");

        (await server.Admin.PostAsync($"/api/v1/users/{hugo.Id}/disable", null)).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var afterwards = await session.GetAsync("/");

        afterwards.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        afterwards.Headers.Location.ShouldNotBeNull().ToString().ShouldContain("/login");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_last_admin_cannot_be_demoted(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var before = await server.Database.SnapshotAsync("users");

        using var response = await server.Admin.PutAsync("/api/v1/users/admin/role", RoleBody(Role.Operator));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        problem.Detail().ShouldContain("last admin");
        ((string?)problem["remedy"]).ShouldBe("make another user admin first");
        (await server.Database.SnapshotAsync("users")).ShouldBe(before);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_admin_cannot_disable_themself(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var before = await server.Database.SnapshotAsync("users");

        using var response = await server.Admin.PostAsync("/api/v1/users/admin/disable", null);

        (await response.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("cannot disable yourself");
        (await server.Database.SnapshotAsync("users")).ShouldBe(before);
    }

    [Fact]
    public async Task With_two_admins_one_may_be_demoted_but_then_the_other_is_the_last()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var second = await server.ClientForNewUserAsync(server.Admin, "ida", Role.Admin);

        using var demoteFirst = await second.PutAsync("/api/v1/users/admin/role", RoleBody(Role.Viewer));
        using var demoteSelf = await second.PutAsync("/api/v1/users/ida/role", RoleBody(Role.Viewer));

        (await demoteFirst.ReadAsync(MedicJson.Default.UserResponse)).Role.ShouldBe(Role.Viewer);
        (await demoteSelf.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("'ida' is the tenant's last admin");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM users WHERE role = 'admin'")).ShouldBe(1);
    }
}
