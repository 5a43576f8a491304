using System.Net;
using System.Security.Cryptography;
using System.Text;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Medic.Server.Tests.Auth;

public sealed class TokenTests
{
    private static StringContent NewToken(string name, Role? role = null, string? expiresIn = null) =>
        Json.Body(new CreateTokenRequest(name, role, expiresIn), MedicJson.Default.CreateTokenRequest);

    private static async Task<TokenCreatedResponse> CreateAsync(HttpClient client, string name, Role? role = null, string? expiresIn = null)
    {
        using var response = await client.PostAsync("/api/v1/tokens", NewToken(name, role, expiresIn));
        var created = await response.ReadAsync(MedicJson.Default.TokenCreatedResponse, HttpStatusCode.Created);
        response.Headers.Location.ShouldNotBeNull().ToString().ShouldBe($"/api/v1/tokens/{created.Token.Id}");
        return created;
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_new_token_shows_its_secret_once_and_is_listed_without_it(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);

        var created = await CreateAsync(server.Admin, "ci", Role.Viewer, "30d");
        using var list = await server.Admin.GetAsync("/api/v1/tokens");
        var listText = await list.Content.ReadAsStringAsync();
        using var one = await server.Admin.GetAsync($"/api/v1/tokens/{created.Token.Id}");
        var oneText = await one.Content.ReadAsStringAsync();

        created.Secret.ShouldStartWith("mdk_");
        created.Secret.Length.ShouldBeGreaterThan(40);
        created.Token.Name.ShouldBe("ci");
        created.Token.Role.ShouldBe(Role.Viewer);
        created.Token.Username.ShouldBe("admin");
        created.Token.Prefix.ShouldBe(created.Secret[..12]);
        created.Token.ExpiresAt.ShouldBe(DateTimeOffset.UtcNow.AddDays(30), TimeSpan.FromMinutes(1));
        list.StatusCode.ShouldBe(HttpStatusCode.OK, listText);
        var listed = await list.ReadAsync(MedicJson.Default.IReadOnlyListTokenResponse);
        listed.Select(t => t.Id).ShouldContain(created.Token.Id);
        listText.ShouldNotContain(created.Secret);
        one.StatusCode.ShouldBe(HttpStatusCode.OK, oneText);
        oneText.ShouldNotContain(created.Secret);
        oneText.ShouldContain(created.Token.Prefix);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_token_works_with_the_role_it_was_given_not_its_owners(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var created = await CreateAsync(server.Admin, "read-only", Role.Viewer);
        var viewerToken = server.Client(created.Secret);

        using var whoami = await viewerToken.GetAsync("/api/v1/whoami");
        using var adminOnly = await viewerToken.GetAsync("/api/v1/audit");

        var me = await whoami.ReadAsync(MedicJson.Default.WhoAmIResponse);
        me.Role.ShouldBe(Role.Viewer);
        me.Superadmin.ShouldBeFalse("a superadmin's viewer token does not carry superadmin");
        me.TokenId.ShouldBe(created.Token.Id);
        await adminOnly.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Only_a_SHA256_hash_of_the_secret_is_stored(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);

        var created = await CreateAsync(server.Admin, "deploy-bot");
        using var used = await server.Client(created.Secret).GetAsync("/api/v1/whoami");
        used.StatusCode.ShouldBe(HttpStatusCode.OK);

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(created.Secret)));
        var everything = await server.Database.DumpAllAsync();
        everything.ShouldContain(hash, Case.Sensitive, "the dump must see api_tokens.token_hash, or the search below proves nothing");
        everything.ShouldNotContain(created.Secret, Case.Sensitive);
        everything.ShouldNotContain(created.Secret[12..], Case.Sensitive);
        (await server.Database.ScalarAsync<string>("SELECT token_hash FROM api_tokens WHERE id = @id", new { id = created.Token.Id })).ShouldBe(hash);
        if (!server.Database.IsPostgres)
        {
            var onDisk = ReadSqliteFiles(server.Database.SqliteFile);
            onDisk.ShouldContain(hash, Case.Sensitive, "the file search must find the stored hash, or it proves nothing");
            onDisk.ShouldNotContain(created.Secret[12..], Case.Sensitive);
        }

        var secretTail = created.Secret[12..];
        server.Logs.Lines.ShouldNotContain(l => l.ToString().Contains(secretTail, StringComparison.Ordinal), "the server log must not contain the secret");
    }

    /// <summary>The database file and its write-ahead log as text, the way someone with a copy of the disk would search them.</summary>
    private static string ReadSqliteFiles(string databaseFile)
    {
        var text = new StringBuilder();
        foreach (var path in new[] { databaseFile, databaseFile + "-wal" }.Where(File.Exists))
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            text.Append(Encoding.Latin1.GetString(memory.ToArray()));
        }

        return text.ToString();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_revoked_token_gets_401_saying_it_was_revoked(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var created = await CreateAsync(server.Admin, "short-lived");
        var holder = server.Client(created.Secret);
        (await holder.GetAsync("/api/v1/whoami")).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var revoke = await server.Admin.DeleteAsync($"/api/v1/tokens/{created.Token.Id}");
        var revoked = await revoke.ReadAsync(MedicJson.Default.TokenResponse);
        using var afterwards = await holder.GetAsync("/api/v1/whoami");

        revoked.RevokedAt.ShouldNotBeNull().ShouldBe(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        var problem = await afterwards.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        problem.Detail().ShouldContain("revoked");
        using var listed = await server.Admin.GetAsync($"/api/v1/tokens/{created.Token.Id}");
        // Stored times keep microseconds; the revoking answer itself may carry a tenth of one more.
        (await listed.ReadAsync(MedicJson.Default.TokenResponse)).RevokedAt.ShouldNotBeNull().ShouldBe(revoked.RevokedAt!.Value, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task Revoking_a_token_twice_keeps_the_first_revocation_time()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, time: clock);
        var created = await CreateAsync(server.Admin, "twice");

        using var first = await server.Admin.DeleteAsync($"/api/v1/tokens/{created.Token.Id}");
        var firstRevocation = (await first.ReadAsync(MedicJson.Default.TokenResponse)).RevokedAt;
        clock.Advance(TimeSpan.FromMinutes(5));
        using var second = await server.Admin.DeleteAsync($"/api/v1/tokens/{created.Token.Id}");

        (await second.ReadAsync(MedicJson.Default.TokenResponse)).RevokedAt.ShouldNotBeNull().ShouldBe(firstRevocation!.Value, TimeSpan.FromMilliseconds(1));
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_expired_token_gets_401_saying_it_expired(string dialect)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MedicServer.StartAsync(dialect, time: clock);
        var created = await CreateAsync(server.Admin, "one-hour", expiresIn: "1h");
        var holder = server.Client(created.Secret);
        created.Token.ExpiresAt.ShouldBe(clock.GetUtcNow().AddHours(1), TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromMinutes(59));
        (await holder.GetAsync("/api/v1/whoami")).StatusCode.ShouldBe(HttpStatusCode.OK, "the token works until it expires");

        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        using var afterwards = await holder.GetAsync("/api/v1/whoami");

        (await afterwards.ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail().ShouldContain("expired");
    }

    [Fact]
    public async Task A_token_longer_than_the_maximum_lifetime_is_refused()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        using var response = await server.Admin.PostAsync("/api/v1/tokens", NewToken("forever", expiresIn: "400d"));

        (await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("maximum token lifetime");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_non_admin_sees_and_revokes_only_their_own_tokens(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var adminsToken = await CreateAsync(server.Admin, "admin-ci");
        var operatorClient = await server.ClientForNewUserAsync(server.Admin, "olga", Role.Operator);
        var olgasToken = await CreateAsync(operatorClient, "olga-ci");

        using var list = await operatorClient.GetAsync("/api/v1/tokens");
        using var getOther = await operatorClient.GetAsync($"/api/v1/tokens/{adminsToken.Token.Id}");
        using var revokeOther = await operatorClient.DeleteAsync($"/api/v1/tokens/{adminsToken.Token.Id}");
        using var adminList = await server.Admin.GetAsync("/api/v1/tokens");

        var visible = await list.ReadAsync(MedicJson.Default.IReadOnlyListTokenResponse);
        visible.ShouldNotBeEmpty();
        visible.ShouldAllBe(t => t.Username == "olga");
        visible.Select(t => t.Id).ShouldContain(olgasToken.Token.Id);
        await getOther.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await revokeOther.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        using var adminsTokenStillWorks = await server.Client(adminsToken.Secret).GetAsync("/api/v1/whoami");
        adminsTokenStillWorks.StatusCode.ShouldBe(HttpStatusCode.OK, "the operator's revoke attempt must not have revoked it");
        var all = await adminList.ReadAsync(MedicJson.Default.IReadOnlyListTokenResponse);
        all.Select(t => t.Id).ShouldContain(olgasToken.Token.Id, "an admin sees every token of the tenant");
        all.Select(t => t.Id).ShouldContain(adminsToken.Token.Id);
    }

    [Fact]
    public async Task A_user_cannot_create_a_token_with_a_role_above_their_own()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var operatorClient = await server.ClientForNewUserAsync(server.Admin, "otto", Role.Operator);

        using var response = await operatorClient.PostAsync("/api/v1/tokens", NewToken("escalate", Role.Admin));

        (await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("cannot create a token with role 'admin'");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM api_tokens WHERE role = 'admin' AND name = 'escalate'")).ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_token_stops_working_when_its_owner_is_demoted_below_its_role(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var (user, password) = await server.AddUserAsync(server.Admin, "petra", Role.Operator);
        var operatorToken = server.Client(await server.LogInAsync("petra", password));
        (await operatorToken.GetAsync("/api/v1/whoami")).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var demote = await server.Admin.PutAsync($"/api/v1/users/{user.Id}/role", Json.Body(new SetRoleRequest(Role.Viewer), MedicJson.Default.SetRoleRequest));
        demote.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var afterwards = await operatorToken.GetAsync("/api/v1/whoami");

        (await afterwards.ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail().ShouldContain("beyond its owner's current role");
    }
}
