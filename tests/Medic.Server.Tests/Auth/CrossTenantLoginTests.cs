using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Auth;

public sealed class CrossTenantLoginTests
{
    private static StringContent Login(string username, string password, string? tenant = null) =>
        Json.Body(new TokenLoginRequest(username, password, tenant, null, null), MedicJson.Default.TokenLoginRequest);

    private static StringContent NewTenant(string slug, string adminUsername, string adminPassword) =>
        Json.Body(new CreateTenantRequest(slug, null, adminUsername, adminPassword), MedicJson.Default.CreateTenantRequest);

    private static async Task<JsonObject> FailedLoginAsync(MedicServer server, string username, string password, string? tenant = null)
    {
        using var response = await server.Client().PostAsync("/api/v1/auth/token", Login(username, password, tenant));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        problem.Remove("trace_id");
        return problem;
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_username_in_several_tenants_gets_the_wrong_password_answer_whether_or_not_the_password_is_right_anywhere(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        // "ops" in two tenants; the attacker is acme's ops and tries whether globex's ops shares the password.
        (await server.Admin.PostAsync("/api/v1/tenants", NewTenant("acme", "ops", "the-shared-password"))).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await server.Admin.PostAsync("/api/v1/tenants", NewTenant("globex", "ops", "the-shared-password"))).StatusCode.ShouldBe(HttpStatusCode.Created);

        var rightForBoth = await FailedLoginAsync(server, "ops", "the-shared-password");
        var rightForNone = await FailedLoginAsync(server, "ops", "a-wrong-password");
        var unknownUser = await FailedLoginAsync(server, "nobody-at-all", "a-wrong-password");

        rightForBoth.ToJsonString().ShouldBe(rightForNone.ToJsonString(), "the answer must not tell a right password from a wrong one");
        rightForNone.ToJsonString().ShouldBe(unknownUser.ToJsonString());
        rightForBoth.Detail().ShouldBe("The username or password is wrong.");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM api_tokens WHERE user_id <> (SELECT id FROM users WHERE username = 'admin')")).ShouldBe(0);
        (await server.LogInAsync("ops", "the-shared-password", "globex")).ShouldStartWith("mdk_");
    }

    [Fact]
    public async Task Login_time_does_not_grow_with_the_number_of_tenants_a_username_exists_in()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.RateLimits.LoginPerMinute = 10_000);
        const int tenants = 12;
        for (var i = 0; i < tenants; i++)
        {
            (await server.Admin.PostAsync("/api/v1/tenants", NewTenant($"t{i}", "shared", $"password-of-tenant-{i}"))).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        (await server.Admin.PostAsync("/api/v1/tenants", NewTenant("solo-tenant", "solo", "password-of-solo"))).StatusCode.ShouldBe(HttpStatusCode.Created);

        // The fastest of several tries: the machine's load only ever adds time, it never removes the hashing.
        async Task<TimeSpan> FastestFailedLoginAsync(string username)
        {
            var fastest = TimeSpan.MaxValue;
            for (var i = 0; i < 6; i++)
            {
                var watch = Stopwatch.StartNew();
                await FailedLoginAsync(server, username, "password-of-tenant-3");
                fastest = watch.Elapsed < fastest ? watch.Elapsed : fastest;
            }

            return fastest;
        }

        var solo = await FastestFailedLoginAsync("solo");
        var shared = await FastestFailedLoginAsync("shared");

        // Checking the password against all twelve users would take about twelve times as long.
        shared.ShouldBeLessThan(solo * 3 + TimeSpan.FromMilliseconds(50), $"one tenant: {solo.TotalMilliseconds:F0} ms; {tenants} tenants: {shared.TotalMilliseconds:F0} ms");
    }
}
