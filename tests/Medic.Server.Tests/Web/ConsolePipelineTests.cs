using System.Net;
using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Runbooks;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Web;

/// <summary>The console pages a notification links to: an approval with its plan and buttons, and an incident.</summary>
public sealed class ConsolePipelineTests
{
    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_approver_follows_the_link_signs_in_sees_what_will_run_and_approves_in_the_console(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
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
        using var pending = await server.Admin.GetAsync("/api/v1/approvals");
        var approval = (await pending.ReadAsync(MedicJson.Default.IReadOnlyListApprovalResponse)).ShouldHaveSingleItem();
        var path = new Uri(approval.Link).AbsolutePath;
        path.ShouldBe($"/approvals/{approval.Id}");
        var (_, bobPassword) = await server.AddUserAsync(server.Admin, "bob", Role.Approver);

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
        page.ShouldContain("<dd id=\"status\">pending</dd>");
        page.ShouldContain("<dt>Risk</dt><dd>medium</dd>");
        page.ShouldContain("<code>systemctl restart nginx</code>");
        page.ShouldContain("&lt;script&gt;alert(1)&lt;/script&gt;");
        page.ShouldNotContain("<script>alert(1)</script>");
        page.ShouldContain("value=\"approve\"");

        // The requester sees the plan but no buttons.
        var admin = await ConsoleSession.SignInAsync(server, MedicServer.AdminUsername, MedicServer.AdminPassword);
        var own = await admin.GetPageAsync(path);
        own.ShouldContain("another approver decides");
        own.ShouldNotContain("value=\"approve\"");

        using (var noToken = await bob.PostFormAsync(path + "/decide", new() { ["decision"] = "approve" }, withAntiforgery: false))
        {
            noToken.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        }

        await bob.GetPageAsync(path);
        using (var approve = await bob.PostFormAsync(path + "/decide", new() { ["decision"] = "approve", ["comment"] = "after the backup" }))
        {
            approve.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }

        var decided = await bob.GetPageAsync(path);
        decided.ShouldContain("<dd id=\"status\">approved</dd>");
        decided.ShouldContain("approved by user:bob");
        decided.ShouldNotContain("value=\"approve\"");
        using (var again = await bob.PostFormAsync(path + "/decide", new() { ["decision"] = "reject", ["comment"] = "no" }))
        {
            again.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            (await bob.GetPageAsync(again.Headers.Location!.ToString())).ShouldContain("already approved");
        }

        var incidentPage = await bob.GetPageAsync($"/incidents/{incident}");
        incidentPage.ShouldContain("approved fix-web: after the backup");
        incidentPage.ShouldContain("fix-web v1");

        // Another tenant's admin, signed in to the console, finds neither page and cannot decide.
        using (var tenant = await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"globex","admin_username":"globex-admin","admin_password":"globex-admin-password"}""")))
        {
            tenant.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var globex = new ConsoleSession(server);
        await globex.GetPageAsync("/login");
        (await globex.PostFormAsync("/login", new() { ["username"] = "globex-admin", ["password"] = "globex-admin-password", ["tenant"] = "globex" })).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        await globex.GetPageAsync("/");
        await globex.GetPageAsync(path, HttpStatusCode.NotFound);
        await globex.GetPageAsync($"/incidents/{incident}", HttpStatusCode.NotFound);
        await globex.GetPageAsync("/");
        using var foreign = await globex.PostFormAsync(path + "/decide", new() { ["decision"] = "reject", ["comment"] = "mine now" });
        foreign.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
