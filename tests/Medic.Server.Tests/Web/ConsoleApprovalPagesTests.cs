using System.Net;
using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Web;

/// <summary>
/// The console's approval and incident pages as the server first renders them (what a browser gets
/// before the page goes live): a notification's link, the plan, who sees the buttons, and another
/// tenant. Deciding goes through the approvals API with the session and its antiforgery token, as the page does.
/// </summary>
public sealed class ConsoleApprovalPagesTests
{
    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_approver_follows_the_link_signs_in_sees_what_will_run_and_approves_through_the_API_the_page_calls(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var (incident, approval) = await PendingApprovalAsync(server);
        var path = new Uri(approval.Link).AbsolutePath;
        path.ShouldBe($"/approvals/{approval.Id}");
        var (_, bobPassword) = await server.AddUserAsync(server.Admin, "bob", Role.Approver);
        var (_, vicPassword) = await server.AddUserAsync(server.Admin, "vic", Role.Viewer);

        // Signed out, the link goes to the sign-in page, which comes back to the approval.
        var bob = new ConsoleSession(server);
        using (var first = await bob.GetAsync(path))
        {
            first.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            first.Headers.Location!.ToString().ShouldContain("ReturnUrl=" + Uri.EscapeDataString(path));
            var login = await bob.GetPageAsync(first.Headers.Location!.IsAbsoluteUri ? first.Headers.Location.PathAndQuery : first.Headers.Location.ToString());
            login.ShouldContain($"name=\"return_url\" value=\"{path}\"");
        }

        using (var signIn = await bob.PostFormAsync("/login", new() { ["username"] = "bob", ["password"] = bobPassword, ["return_url"] = path }))
        {
            signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            signIn.Headers.Location!.ToString().ShouldBe(path);
        }

        var page = await bob.GetPageAsync(path);
        page.ShouldContain("data-approval-status>pending</span>");
        page.ShouldContain(">medium</span>");
        page.ShouldContain("<code>systemctl restart nginx</code>");
        page.ShouldContain("<code data-param=\"unit\">nginx</code>");
        page.ShouldContain("web-1 &lt;script&gt;alert(1)&lt;/script&gt; is down");
        page.ShouldNotContain("<script>alert(1)</script>");
        page.ShouldContain("data-action=\"approve\"");
        page.ShouldContain("data-action=\"reject\"");

        // The requester sees the plan and the API's reason instead of the buttons; a viewer sees no buttons.
        var admin = await ConsoleSession.SignInAsync(server, MedicServer.AdminUsername, MedicServer.AdminPassword);
        var own = await admin.GetPageAsync(path);
        own.ShouldContain("<code>systemctl restart nginx</code>");
        own.ShouldContain("nobody approves their own request");
        own.ShouldContain("another approver decides");
        own.ShouldNotContain("data-action=\"approve\"");
        var vic = await ConsoleSession.SignInAsync(server, "vic", vicPassword);
        var viewed = await vic.GetPageAsync(path);
        viewed.ShouldContain("<code>systemctl restart nginx</code>");
        viewed.ShouldContain("Your role cannot approve");
        viewed.ShouldNotContain("data-action=\"approve\"");
        viewed.ShouldNotContain("data-action=\"reject\"");

        // What the page's button sends: the session cookie alone is refused, with the antiforgery token the API decides.
        using (var noToken = await SendAsync(bob, "/api/v1/approvals/" + approval.Id + "/approve", """{"comment":"after the backup"}""", antiforgery: null))
        {
            noToken.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        var token = await AntiforgeryAsync(bob);
        using (var approve = await SendAsync(bob, "/api/v1/approvals/" + approval.Id + "/approve", """{"comment":"after the backup"}""", token))
        {
            approve.StatusCode.ShouldBe(HttpStatusCode.OK, await approve.Content.ReadAsStringAsync());
        }

        var decided = await bob.GetPageAsync(path);
        decided.ShouldContain("data-approval-status>approved</span>");
        decided.ShouldContain("approved by user:bob");
        decided.ShouldContain("after the backup");
        decided.ShouldNotContain("data-action=\"approve\"");
        using (var again = await SendAsync(bob, "/api/v1/approvals/" + approval.Id + "/reject", """{"reason":"no"}""", token))
        {
            (await again.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("already approved");
        }

        var incidentPage = await bob.GetPageAsync($"/incidents/{incident}");
        incidentPage.ShouldContain("approved fix-web: after the backup");
        incidentPage.ShouldContain("fix-web v1");
        incidentPage.ShouldContain("web-1 &lt;script&gt;alert(1)&lt;/script&gt; is down");
        incidentPage.ShouldNotContain("<script>alert(1)</script>");

        // Another tenant's admin, signed in to the console, finds neither page and cannot decide.
        using (var tenant = await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"globex","admin_username":"globex-admin","admin_password":"globex-admin-password"}""")))
        {
            tenant.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var globex = new ConsoleSession(server);
        await globex.GetPageAsync("/login");
        (await globex.PostFormAsync("/login", new() { ["username"] = "globex-admin", ["password"] = "globex-admin-password", ["tenant"] = "globex" })).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var foreignApproval = await globex.GetPageAsync(path, HttpStatusCode.NotFound);
        foreignApproval.ShouldContain("No approval ");
        foreignApproval.ShouldContain(approval.Id);
        foreignApproval.ShouldNotContain("systemctl");
        var foreignIncident = await globex.GetPageAsync($"/incidents/{incident}", HttpStatusCode.NotFound);
        foreignIncident.ShouldNotContain("alert(1)");
        using var foreign = await SendAsync(globex, "/api/v1/approvals/" + approval.Id + "/reject", """{"reason":"mine now"}""", await AntiforgeryAsync(globex));
        foreign.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_approvals_page_lists_what_waits_oldest_first_with_its_plan(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var admin = await ConsoleSession.SignInAsync(server, MedicServer.AdminUsername, MedicServer.AdminPassword);
        (await admin.GetPageAsync("/approvals")).ShouldContain("Nothing waits for approval");

        var (_, older) = await PendingApprovalAsync(server);
        var (_, bobPassword) = await server.AddUserAsync(server.Admin, "bob", Role.Approver);
        var bob = await ConsoleSession.SignInAsync(server, "bob", bobPassword);
        var page = await bob.GetPageAsync("/approvals");
        page.ShouldContain($"data-approval=\"{older.Id}\"");
        page.ShouldContain("systemctl restart nginx");
        page.ShouldContain("data-action=\"approve\"");
        (await admin.GetPageAsync("/approvals")).ShouldContain("yours: another approver decides");
    }

    /// <summary>An incident on an enrolled server with a medium-risk recipe proposed for it: a pending approval.</summary>
    private static async Task<(string Incident, ApprovalResponse Approval)> PendingApprovalAsync(MedicServer server)
    {
        using (var applied = await server.Admin.PostAsync("/api/v1/runbooks", Json.Raw("""
            name: fix-web
            version: 1
            risk: medium
            parameters:
              unit: {type: string, pattern: '[a-z]+'}
            targets: incident
            steps:
              - run: [systemctl, restart, '${{ params.unit }}']
            """, "application/yaml")))
        {
            applied.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var token = await server.Admin.PostAsync("/api/v1/enrollment-tokens", Json.Raw("{}"));
        var secret = (await token.ReadAsync(MedicJson.Default.EnrollmentTokenCreatedResponse, HttpStatusCode.Created)).Secret;
        (await server.Client().PostAsync("/agent/v1/enroll", Json.Raw($$"""{"token":"{{secret}}","name":"web-1"}"""))).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var opened = await server.Admin.PostAsync("/api/v1/incidents", Json.Raw("""{"title":"web-1 <script>alert(1)</script> is down","server":"web-1"}"""));
        var incident = (await opened.ReadAsync(MedicJson.Default.IncidentResponse, HttpStatusCode.Created)).Id;
        using var proposed = await server.Admin.PostAsync($"/api/v1/incidents/{incident}/remediations", Json.Raw("""{"runbook":"fix-web","params":{"unit":"nginx"}}"""));
        proposed.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var pending = await server.Admin.GetAsync("/api/v1/approvals?incident=" + incident);
        return (incident, (await pending.ReadAsync(MedicJson.Default.IReadOnlyListApprovalResponse)).ShouldHaveSingleItem());
    }

    private static async Task<string> AntiforgeryAsync(ConsoleSession browser)
    {
        using var response = await browser.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/antiforgery"));
        return (await response.ReadAsync(MedicJson.Default.AntiforgeryTokenResponse)).Token;
    }

    private static Task<HttpResponseMessage> SendAsync(ConsoleSession browser, string path, string body, string? antiforgery)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json.Raw(body) };
        if (antiforgery is not null) request.Headers.Add("X-Medic-Antiforgery", antiforgery);
        return browser.SendAsync(request);
    }
}
