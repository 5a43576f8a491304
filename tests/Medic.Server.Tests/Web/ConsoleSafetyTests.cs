using System.Net;
using System.Text.RegularExpressions;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Web;

public sealed partial class ConsoleSafetyTests
{
    [Theory]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    [InlineData("/\t/evil.example/")]
    [InlineData("/\n/evil.example/")]
    [InlineData("/\r\nSet-Cookie: x=1")]
    [InlineData("/x/..\\..\\\\evil.example")]
    [InlineData("https://evil.example/")]
    [InlineData("javascript:alert(1)")]
    public async Task After_signing_in_a_return_URL_that_could_leave_the_site_is_replaced_by_the_overview(string returnUrl)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var browser = new ConsoleSession(server);
        await browser.GetPageAsync("/login");

        using var signIn = await browser.PostFormAsync("/login", new() { ["username"] = "admin", ["password"] = MedicServer.AdminPassword, ["return_url"] = returnUrl });

        signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect, await signIn.Content.ReadAsStringAsync());
        signIn.Headers.Location.ShouldNotBeNull().OriginalString.ShouldBe("/");
    }

    [Fact]
    public async Task After_signing_in_a_local_return_path_is_followed()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var browser = new ConsoleSession(server);
        await browser.GetPageAsync("/login?ReturnUrl=%2Fincidents%2Finc_1%3Ftab%3Dtimeline");

        using var signIn = await browser.PostFormAsync("/login", new() { ["username"] = "admin", ["password"] = MedicServer.AdminPassword, ["return_url"] = "/incidents/inc_1?tab=timeline" });

        signIn.Headers.Location.ShouldNotBeNull().OriginalString.ShouldBe("/incidents/inc_1?tab=timeline");
    }

    [Theory]
    [InlineData("/login", HttpStatusCode.OK)]
    [InlineData("/", HttpStatusCode.Redirect)]
    [InlineData("/openapi/v1.json", HttpStatusCode.OK)]
    [InlineData("/api/v1/whoami", HttpStatusCode.Unauthorized)]
    [InlineData("/healthz", HttpStatusCode.OK)]
    public async Task Every_answer_carries_the_security_headers(string path, HttpStatusCode status)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);

        using var response = await server.Client().GetAsync(path);

        response.StatusCode.ShouldBe(status);
        string Header(string name) => response.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : "";
        Header("X-Content-Type-Options").ShouldBe("nosniff");
        Header("X-Frame-Options").ShouldBe("DENY");
        Header("Referrer-Policy").ShouldBe("same-origin");
        var csp = Header("Content-Security-Policy");
        csp.ShouldContain("frame-ancestors 'none'");
        csp.ShouldContain("default-src 'none'");
        // Style attributes may be inline (the component library sizes things with them); script never.
        Directive(csp, "script-src").ShouldBeOneOf("", "script-src 'self'");
        csp.ShouldNotContain("unsafe-eval");
    }

    private static string Directive(string csp, string name) =>
        csp.Split(';', StringSplitOptions.TrimEntries).FirstOrDefault(d => d.StartsWith(name + " ", StringComparison.Ordinal)) ?? "";

    [Fact]
    public async Task Console_pages_run_no_inline_script_and_load_every_script_and_stylesheet_from_the_server_itself()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var browser = await ConsoleSession.SignInAsync(server, "admin", MedicServer.AdminPassword);

        using var page = await browser.GetAsync("/");
        var overview = await page.Content.ReadAsStringAsync();

        var scripts = ScriptTag().Matches(overview).Select(m => m.Value).ToList();
        scripts.ShouldNotBeEmpty();
        scripts.ShouldAllBe(tag => tag.Contains(" src=\"", StringComparison.Ordinal), "an inline script would need 'unsafe-inline'");
        foreach (Match m in SourceAttribute().Matches(overview))
        {
            var url = m.Groups["url"].Value;
            url.ShouldNotContain("//", customMessage: "pages load nothing from another origin");
        }

        var csp = string.Join(",", page.Headers.GetValues("Content-Security-Policy"));
        Directive(csp, "script-src").ShouldBe("script-src 'self'");
        Directive(csp, "connect-src").ShouldBe("connect-src 'self'");
        Directive(csp, "font-src").ShouldBe("font-src 'self'");
    }

    [GeneratedRegex("<script[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex("(?:src|href)=\"(?<url>[^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex SourceAttribute();
}
