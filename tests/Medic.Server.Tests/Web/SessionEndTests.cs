using System.Net;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Web;

public sealed class SessionEndTests
{
    /// <summary>A request carrying only <paramref name="cookie"/> as the session, as a replaying attacker would send it.</summary>
    private static async Task<HttpStatusCode> WhoAmIWithCookieAsync(MedicServer server, string cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/whoami");
        request.Headers.Add("Cookie", "medic.session=" + cookie);
        using var response = await server.Client().SendAsync(request);
        return response.StatusCode;
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_session_cookie_replayed_after_signing_out_is_refused(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);
        var browser = await ConsoleSession.SignInAsync(server, "admin", MedicServer.AdminPassword);
        await browser.GetPageAsync("/");
        var copied = browser.Cookies["medic.session"];
        (await WhoAmIWithCookieAsync(server, copied)).ShouldBe(HttpStatusCode.OK, "the copied cookie works while the session lasts");

        using var signOut = await browser.PostFormAsync("/logout", []);

        signOut.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await WhoAmIWithCookieAsync(server, copied)).ShouldBe(HttpStatusCode.Unauthorized, "signing out ends the session on the server, not only in the browser");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM console_sessions WHERE ended_at IS NOT NULL AND end_reason = 'signed_out'")).ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Resetting_a_password_ends_every_console_session_and_API_token_of_that_user(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var (alice, password) = await server.AddUserAsync(server.Admin, "alice", Role.Operator);
        var laptop = await ConsoleSession.SignInAsync(server, "alice", password);
        var phone = await ConsoleSession.SignInAsync(server, "alice", password);
        var token = await server.LogInAsync("alice", password);
        var bob = await server.ClientForNewUserAsync(server.Admin, "bob", Role.Viewer);

        using var reset = await server.Admin.PostAsync($"/api/v1/users/{alice.Id}/password", Json.Raw("{}"));
        reset.StatusCode.ShouldBe(HttpStatusCode.OK);

        (await WhoAmIWithCookieAsync(server, laptop.Cookies["medic.session"])).ShouldBe(HttpStatusCode.Unauthorized);
        (await WhoAmIWithCookieAsync(server, phone.Cookies["medic.session"])).ShouldBe(HttpStatusCode.Unauthorized);
        using var withToken = await server.Client(token).GetAsync("/api/v1/whoami");
        (await withToken.ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail().ShouldBe("The API token was revoked.");
        using var bobStill = await bob.GetAsync("/api/v1/whoami");
        bobStill.StatusCode.ShouldBe(HttpStatusCode.OK, "another user's credentials are untouched");
        var entry = (await server.Database.QueryAsync<string>("SELECT details FROM audit_log WHERE action = 'user.reset_password'")).Single();
        entry.ShouldContain("\"sessions_ended\":\"2\"");
        entry.ShouldContain("\"tokens_revoked\":\"1\"");
    }

    [Fact]
    public async Task Resetting_ones_own_password_keeps_the_token_the_call_is_made_with_and_revokes_the_others()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var other = await server.LogInAsync(MedicServer.AdminUsername, MedicServer.AdminPassword);
        var browser = await ConsoleSession.SignInAsync(server, MedicServer.AdminUsername, MedicServer.AdminPassword);

        using var reset = await server.Admin.PostAsync("/api/v1/users/admin/password", Json.Raw("""{"password":"a-new-admin-password"}"""));
        reset.StatusCode.ShouldBe(HttpStatusCode.OK);

        using var still = await server.Admin.GetAsync("/api/v1/whoami");
        still.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var revoked = await server.Client(other).GetAsync("/api/v1/whoami");
        revoked.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await WhoAmIWithCookieAsync(server, browser.Cookies["medic.session"])).ShouldBe(HttpStatusCode.Unauthorized);
    }
}
