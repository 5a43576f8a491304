using System.Net;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Tenancy;

public sealed class TenantTests
{
    private static StringContent NewTenant(string slug, string? name = null, string? adminUsername = null, string? adminPassword = null) =>
        Json.Body(new CreateTenantRequest(slug, name, adminUsername, adminPassword), MedicJson.Default.CreateTenantRequest);

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_superadmin_creates_a_tenant_with_its_first_admin_who_can_log_in(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);

        using var create = await server.Admin.PostAsync("/api/v1/tenants", NewTenant("acme", "Acme Corp", "acme-admin"));
        var created = await create.ReadAsync(MedicJson.Default.TenantCreatedResponse, HttpStatusCode.Created);
        using var list = await server.Admin.GetAsync("/api/v1/tenants");
        using var one = await server.Admin.GetAsync("/api/v1/tenants/acme");
        var acmeAdmin = server.Client(await server.LogInAsync("acme-admin", created.AdminPassword!, "acme"));
        using var whoami = await acmeAdmin.GetAsync("/api/v1/whoami");
        using var acmeUsers = await acmeAdmin.GetAsync("/api/v1/users");

        create.Headers.Location.ShouldNotBeNull().ToString().ShouldBe("/api/v1/tenants/acme");
        (created.Tenant.Slug, created.Tenant.Name).ShouldBe(("acme", "Acme Corp"));
        created.Admin.ShouldNotBeNull().Role.ShouldBe(Role.Admin);
        created.Admin.Superadmin.ShouldBeFalse();
        created.AdminPassword.ShouldNotBeNull().Length.ShouldBe(20);
        (await list.ReadAsync(MedicJson.Default.IReadOnlyListTenantResponse)).Select(t => t.Slug).ShouldBe(["acme", "default"]);
        (await one.ReadAsync(MedicJson.Default.TenantResponse)).Id.ShouldBe(created.Tenant.Id);
        var me = await whoami.ReadAsync(MedicJson.Default.WhoAmIResponse);
        (me.TenantId, me.TenantSlug, me.Role, me.Superadmin).ShouldBe((created.Tenant.Id, "acme", Role.Admin, false));
        (await acmeUsers.ReadAsync(MedicJson.Default.IReadOnlyListUserResponse)).Select(u => u.Username).ShouldBe(["acme-admin"]);
    }

    [Fact]
    public async Task A_tenant_without_an_admin_takes_its_slug_as_name()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        using var create = await server.Admin.PostAsync("/api/v1/tenants", NewTenant("bare"));

        var created = await create.ReadAsync(MedicJson.Default.TenantCreatedResponse, HttpStatusCode.Created);
        created.Tenant.Name.ShouldBe("bare");
        created.Admin.ShouldBeNull();
        created.AdminPassword.ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_plain_tenant_admin_is_refused_tenant_management(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        using var create = await server.Admin.PostAsync("/api/v1/tenants", NewTenant("acme", adminUsername: "acme-admin", adminPassword: "acme-admin-password"));
        create.StatusCode.ShouldBe(HttpStatusCode.Created);
        var acmeAdmin = server.Client(await server.LogInAsync("acme-admin", "acme-admin-password", "acme"));
        var before = await server.Database.SnapshotAsync("tenants");

        using var list = await acmeAdmin.GetAsync("/api/v1/tenants");
        using var get = await acmeAdmin.GetAsync("/api/v1/tenants/default");
        using var post = await acmeAdmin.PostAsync("/api/v1/tenants", NewTenant("sneaky"));

        foreach (var response in new[] { list, get, post })
        {
            (await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail().ShouldBe("Only superadmins can manage tenants.");
        }

        (await server.Database.SnapshotAsync("tenants")).ShouldBe(before);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_taken_slug_is_409_and_changes_nothing(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        (await server.Admin.PostAsync("/api/v1/tenants", NewTenant("acme", "First"))).StatusCode.ShouldBe(HttpStatusCode.Created);
        var before = await server.Database.SnapshotAsync("tenants") + await server.Database.SnapshotAsync("users");

        using var again = await server.Admin.PostAsync("/api/v1/tenants", NewTenant("acme", "Second", "someone"));

        (await again.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("'acme' already exists");
        (await server.Database.SnapshotAsync("tenants") + await server.Database.SnapshotAsync("users")).ShouldBe(before);
    }

    [Theory]
    [InlineData("Acme")]
    [InlineData("-acme")]
    [InlineData("acme-")]
    [InlineData("ac me")]
    [InlineData("")]
    public async Task A_slug_that_is_not_lowercase_letters_digits_and_inner_dashes_is_refused(string slug)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        using var response = await server.Admin.PostAsync("/api/v1/tenants", NewTenant(slug));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem["errors"]!.AsObject().ShouldContainKey("slug");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM tenants")).ShouldBe(1);
    }

    [Fact]
    public async Task The_same_username_may_exist_in_two_tenants_and_logs_in_with_the_tenant_named()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        (await server.Admin.PostAsync("/api/v1/tenants", NewTenant("acme", adminUsername: "admin", adminPassword: MedicServer.AdminPassword)))
            .StatusCode.ShouldBe(HttpStatusCode.Created);

        using var ambiguous = await server.Client().PostAsync("/api/v1/auth/token",
            Json.Body(new TokenLoginRequest("admin", MedicServer.AdminPassword, null, null, null), MedicJson.Default.TokenLoginRequest));
        using var whoami = await server.Client(await server.LogInAsync("admin", MedicServer.AdminPassword, "acme")).GetAsync("/api/v1/whoami");

        // Refused like a wrong password (no hint that the name exists elsewhere); the remedy says to name the tenant.
        var problem = await ambiguous.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        problem.Detail().ShouldBe("The username or password is wrong.");
        ((string?)problem["remedy"]).ShouldNotBeNull().ShouldContain("--tenant SLUG");
        (await whoami.ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantSlug.ShouldBe("acme");
    }
}
