using System.Net;
using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Auth;

public sealed class RoleTests
{
    /// <summary>Calls that need the tenant's 'administer' permission, with a body each one accepts.</summary>
    public static TheoryData<string, string, string?> AdminOnlyCalls => new()
    {
        { "POST", "/api/v1/users", """{"username":"mallory","role":"admin"}""" },
        { "PUT", "/api/v1/users/admin/role", """{"role":"viewer"}""" },
        { "POST", "/api/v1/users/admin/disable", null },
        { "POST", "/api/v1/users/admin/enable", null },
        { "GET", "/api/v1/audit", null },
        { "GET", "/api/v1/audit/export", null },
        { "GET", "/api/v1/audit/verify", null },
    };

    [Theory]
    [MemberData(nameof(AdminOnlyCalls))]
    public async Task A_viewer_is_refused_admin_calls_with_a_403_naming_the_permission(string method, string path, string? body)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var viewer = await server.ClientForNewUserAsync(server.Admin, "vera", Role.Viewer);
        var before = await server.Database.SnapshotAsync("users");

        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : Json.Raw(body) };
        using var response = await viewer.SendAsync(request);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        problem.Detail().ShouldBe("This call needs the 'administer' permission; your role in tenant 'default' is 'viewer'.");
        (await server.Database.SnapshotAsync("users")).ShouldBe(before);
    }

    [Theory]
    [InlineData("operator")]
    [InlineData("approver")]
    public async Task Operators_and_approvers_cannot_administer_either(string role)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        RoleNames.TryParse(role, out var parsed).ShouldBeTrue();
        var client = await server.ClientForNewUserAsync(server.Admin, "someone", parsed);

        using var response = await client.PostAsync("/api/v1/users", Json.Raw("""{"username":"mallory"}"""));

        (await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail().ShouldContain($"your role in tenant 'default' is '{role}'");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_viewer_may_read_users_tokens_and_whoami(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var viewer = await server.ClientForNewUserAsync(server.Admin, "walt", Role.Viewer);

        foreach (var path in new[] { "/api/v1/whoami", "/api/v1/users", "/api/v1/users/admin", "/api/v1/tokens" })
        {
            using var response = await viewer.GetAsync(path);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
        }
    }

    [Fact]
    public async Task A_viewer_is_refused_tenant_management_as_superadmin_only()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var viewer = await server.ClientForNewUserAsync(server.Admin, "xena", Role.Viewer);

        using var response = await viewer.GetAsync("/api/v1/tenants");

        (await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail().ShouldBe("Only superadmins can manage tenants.");
    }

    [Theory]
    [InlineData(Role.Viewer, false, false, false, false)]
    [InlineData(Role.Approver, false, true, false, false)]
    [InlineData(Role.Operator, true, false, false, false)]
    [InlineData(Role.Admin, true, true, true, false)]
    public void Roles_are_not_a_ladder(Role role, bool operate, bool approve, bool administer, bool manageTenants)
    {
        Permissions.Allows(role, superadmin: false, Permission.Read).ShouldBeTrue();
        Permissions.Allows(role, superadmin: false, Permission.Operate).ShouldBe(operate);
        Permissions.Allows(role, superadmin: false, Permission.Approve).ShouldBe(approve);
        Permissions.Allows(role, superadmin: false, Permission.Administer).ShouldBe(administer);
        Permissions.Allows(role, superadmin: false, Permission.ManageTenants).ShouldBe(manageTenants);
    }

    [Theory]
    [InlineData(Role.Admin, true)]
    [InlineData(Role.Operator, false)]
    [InlineData(Role.Viewer, false)]
    public void Only_a_superadmin_acting_as_admin_manages_tenants(Role role, bool allowed) =>
        Permissions.Allows(role, superadmin: true, Permission.ManageTenants).ShouldBe(allowed);

    [Theory]
    [InlineData(Role.Admin, Role.Admin, true)]
    [InlineData(Role.Admin, Role.Operator, true)]
    [InlineData(Role.Operator, Role.Operator, true)]
    [InlineData(Role.Operator, Role.Viewer, true)]
    [InlineData(Role.Operator, Role.Approver, false)]
    [InlineData(Role.Approver, Role.Operator, false)]
    [InlineData(Role.Viewer, Role.Operator, false)]
    [InlineData(Role.Operator, Role.Admin, false)]
    public void A_role_covers_itself_the_viewer_role_and_for_admins_everything(Role holder, Role wanted, bool covers) =>
        Permissions.Covers(holder, wanted).ShouldBe(covers);
}
