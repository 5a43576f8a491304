using System.Net;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Auth;

public sealed class LoginTests
{
    private static StringContent TokenLogin(string username, string password, string? tenant = null, string? tokenName = null, string? expiresIn = null) =>
        Json.Body(new TokenLoginRequest(username, password, tenant, tokenName, expiresIn), MedicJson.Default.TokenLoginRequest);

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Logging_in_with_a_password_returns_a_token_that_whoami_recognises(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);
        var before = DateTimeOffset.UtcNow;

        using var login = await server.Client().PostAsync("/api/v1/auth/token", TokenLogin("admin", MedicServer.AdminPassword));
        var created = await login.ReadAsync(MedicJson.Default.TokenCreatedResponse);
        using var whoami = await server.Client(created.Secret).GetAsync("/api/v1/whoami");
        var me = await whoami.ReadAsync(MedicJson.Default.WhoAmIResponse);

        created.Secret.ShouldStartWith("mdk_");
        created.Token.Name.ShouldBe("medic login");
        created.Token.Role.ShouldBe(Role.Admin);
        created.Token.Prefix.ShouldBe(created.Secret[..12]);
        created.Token.ExpiresAt.ShouldBeInRange(before.AddDays(90).AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(90).AddMinutes(1));
        me.Username.ShouldBe("admin");
        me.TenantSlug.ShouldBe("default");
        me.Role.ShouldBe(Role.Admin);
        me.Superadmin.ShouldBeTrue();
        me.AuthMethod.ShouldBe("token");
        me.TokenId.ShouldBe(created.Token.Id);
        me.TokenExpiresAt.ShouldNotBeNull().ShouldBe(created.Token.ExpiresAt, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_login_can_name_its_token_and_ask_for_a_shorter_lifetime()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);

        using var login = await server.Client().PostAsync("/api/v1/auth/token", TokenLogin("admin", MedicServer.AdminPassword, "default", "laptop", "2h"));

        var created = await login.ReadAsync(MedicJson.Default.TokenCreatedResponse);
        created.Token.Name.ShouldBe("laptop");
        created.Token.ExpiresAt.ShouldBe(DateTimeOffset.UtcNow.AddHours(2), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task A_login_asking_for_a_lifetime_beyond_the_maximum_is_refused()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.Tokens.MaxLifetime = "30d", logInAdmin: false);

        using var login = await server.Client().PostAsync("/api/v1/auth/token", TokenLogin("admin", MedicServer.AdminPassword, expiresIn: "31d"));

        var problem = await login.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.Detail().ShouldContain("expires_in");
        problem.Detail().ShouldContain("30d");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM api_tokens")).ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_wrong_password_and_an_unknown_user_get_the_same_401(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);

        using var wrongPassword = await server.Client().PostAsync("/api/v1/auth/token", TokenLogin("admin", "not-the-password"));
        using var unknownUser = await server.Client().PostAsync("/api/v1/auth/token", TokenLogin("nobody", "not-the-password"));

        var first = await wrongPassword.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        var second = await unknownUser.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        first.Detail().ShouldBe("The username or password is wrong.");
        second.Detail().ShouldBe(first.Detail());
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM api_tokens")).ShouldBe(0);
    }

    [Fact]
    public async Task Whoami_without_credentials_is_401_with_a_remedy()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);

        using var response = await server.Client().GetAsync("/api/v1/whoami");

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        ((string?)problem["remedy"] ?? "").ShouldContain("medic login");
    }

    [Fact]
    public async Task A_bearer_token_that_is_not_a_medic_token_is_401_saying_so()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);

        using var garbage = await server.Client("not-a-medic-token").GetAsync("/api/v1/whoami");
        using var unknown = await server.Client("mdk_" + new string('x', 43)).GetAsync("/api/v1/whoami");

        (await garbage.ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail().ShouldContain("not a Medic API token");
        (await unknown.ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail().ShouldContain("not known");
        garbage.Headers.WwwAuthenticate.ToString().ShouldBe("Bearer");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_eleventh_login_attempt_within_a_minute_from_one_address_gets_429_with_Retry_After(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);
        var client = server.Client();

        for (var attempt = 1; attempt <= 10; attempt++)
        {
            using var refused = await client.PostAsync("/api/v1/auth/token", TokenLogin("admin", "wrong-password-" + attempt));
            refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, $"attempt {attempt} is within the limit");
        }

        // Even the right password is not checked once the budget is spent.
        using var limited = await client.PostAsync("/api/v1/auth/token", TokenLogin("admin", MedicServer.AdminPassword));

        var problem = await limited.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        var retryAfter = limited.Headers.RetryAfter.ShouldNotBeNull();
        retryAfter.Delta.ShouldNotBeNull().TotalSeconds.ShouldBeInRange(1, 60);
        problem.Detail().ShouldContain($"{(int)retryAfter.Delta!.Value.TotalSeconds} s");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM api_tokens")).ShouldBe(0);
    }

    [Fact]
    public async Task The_login_limit_counts_per_client_address()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var first = server.Client();
        for (var attempt = 1; attempt <= 11; attempt++)
        {
            using var _ = await first.PostAsync("/api/v1/auth/token", TokenLogin("admin", "wrong-password"));
        }

        using var stillLimited = await first.PostAsync("/api/v1/auth/token", TokenLogin("admin", MedicServer.AdminPassword));
        using var otherAddress = await server.Client(from: IPAddress.Parse("127.0.0.2"))
            .PostAsync("/api/v1/auth/token", TokenLogin("admin", MedicServer.AdminPassword));

        stillLimited.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        await otherAddress.ReadAsync(MedicJson.Default.TokenCreatedResponse);
    }

    [Fact]
    public async Task Console_and_API_logins_share_one_budget()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var console = new ConsoleSession(server);
        await console.GetPageAsync("/login");
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            using var page = await console.PostFormAsync("/login", new() { ["username"] = "admin", ["password"] = "wrong-password" });
            page.Headers.Location.ShouldNotBeNull().OriginalString.ShouldBe("/login?error=credentials");
        }

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            using var refused = await server.Client().PostAsync("/api/v1/auth/token", TokenLogin("admin", "wrong-password"));
            refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        using var limited = await console.PostFormAsync("/login", new() { ["username"] = "admin", ["password"] = MedicServer.AdminPassword });

        // The console's form is sent back to the sign-in page saying to wait (an API call gets 429).
        limited.Headers.Location.ShouldNotBeNull().OriginalString.ShouldBe("/login?error=too-many");
        limited.Headers.RetryAfter.ShouldNotBeNull();
        console.Cookies.ShouldNotContainKey("medic.session");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Logging_out_with_a_token_revokes_that_token_only(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var laptop = server.Client(await server.LogInAsync("admin", MedicServer.AdminPassword));

        using var logout = await laptop.PostAsync("/api/v1/auth/logout", null);
        using var afterwards = await laptop.GetAsync("/api/v1/whoami");
        using var other = await server.Admin.GetAsync("/api/v1/whoami");
        using var audit = await server.Admin.GetAsync("/api/v1/audit?action=auth.logout");

        logout.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await afterwards.ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail().ShouldContain("revoked");
        other.StatusCode.ShouldBe(HttpStatusCode.OK, "the admin's other token is untouched");
        var entry = (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.ShouldHaveSingleItem();
        (entry.Actor, entry.Outcome, entry.Target.StartsWith("token:", StringComparison.Ordinal)).ShouldBe(("user:admin", AuditOutcomes.Success, true));
    }
}
