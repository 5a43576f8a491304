using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Medic.E2E.Tests.Console;

/// <summary>The settings pages against <c>medic up</c>: every change goes through the API and shows on the page.</summary>
[Collection(ConsoleCollection.Name)]
public sealed partial class SettingsTests(ConsoleFixture console)
{
    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<IPage> OpenAsync(string path, string username = "admin", string password = ConsoleFixture.AdminPassword)
    {
        var page = await console.SignedInPageAsync(username, password);
        await page.GotoAsync(path);
        await ConsoleFixture.WaitInteractiveAsync(page);
        return page;
    }

    [Fact]
    public async Task An_admin_adds_a_user_who_gets_a_password_shown_once_then_disables_them()
    {
        var page = await OpenAsync("/settings");
        (await page.Locator("[data-section]").AllInnerTextsAsync()).ShouldContain("Secrets");
        await ConsoleFixture.ScreenshotAsync(page, "settings");

        await page.GotoAsync("/settings/users");
        await ConsoleFixture.WaitInteractiveAsync(page);
        var name = Unique("ui-user");
        await page.FillAsync("#user-name", name);
        await page.SelectOptionAsync("#user-role", "Operator");
        await page.ClickAsync("[data-action=add-user]");
        await page.Locator($"[data-created-user='{name}'] code").WaitForAsync();
        var password = await page.Locator($"[data-created-user='{name}'] code").InnerTextAsync();
        password.Length.ShouldBeGreaterThanOrEqualTo(12);

        var row = page.Locator($"tr[data-user='{name}']");
        (await row.InnerTextAsync()).ShouldContain("active");
        (await row.Locator("select[data-field=role]").InputValueAsync()).ShouldBe("Operator");
        await ConsoleFixture.ScreenshotAsync(page, "settings-users");

        // The shown password signs in.
        var theirs = await console.SignedInPageAsync(name, password);
        (await theirs.Locator("[data-role]").InnerTextAsync()).ShouldContain("operator");
        await theirs.Context.CloseAsync();

        await row.Locator("[data-action=disable]").ClickAsync();
        await row.Filter(new LocatorFilterOptions { HasText = "disabled" }).WaitForAsync();
        var listed = await console.Home.RunAsync("users", "list");
        listed.Stdout.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal)).ShouldContain("disabled");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_api_token_is_shown_once_works_and_is_gone_after_a_reload()
    {
        var page = await OpenAsync("/settings/tokens");
        var name = Unique("ui-token");
        await page.FillAsync("#token-name", name);
        await page.FillAsync("#token-expires", "1d");
        await page.ClickAsync("[data-action=create-token]");
        var shown = page.Locator("[data-token-secret] .copy-command code");
        await shown.WaitForAsync();
        var secret = await shown.InnerTextAsync();
        secret.ShouldStartWith("mdk_");

        // The secret is a working bearer token.
        using (var http = new HttpClient { BaseAddress = new Uri(console.Server.Url) })
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
            (await http.GetAsync(new Uri("/api/v1/tokens", UriKind.Relative))).StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        }

        await page.ClickAsync("[data-action=close-secret]");
        await page.ReloadAsync();
        await ConsoleFixture.WaitInteractiveAsync(page);
        var row = page.Locator($"tr[data-token='{name}']");
        await row.WaitForAsync();
        (await page.ContentAsync()).ShouldNotContain(secret);
        (await row.InnerTextAsync()).ShouldContain(secret[..12]);

        await row.Locator("[data-action=revoke]").ClickAsync();
        await row.Filter(new LocatorFilterOptions { HasText = "revoked" }).WaitForAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_enrollment_token_comes_with_the_command_to_run_on_the_new_server()
    {
        var page = await OpenAsync("/settings/enrollment");
        await page.FillAsync("#enroll-tags", "env=e2e, role=ui");
        await page.FillAsync("#enroll-uses", "3");
        await page.ClickAsync("[data-action=create-enrollment]");
        var command = page.Locator("[data-enroll-command] .copy-command code");
        await command.WaitForAsync();
        var text = await command.InnerTextAsync();
        var match = EnrollCommand().Match(text);
        match.Success.ShouldBeTrue(text);
        match.Groups["server"].Value.ShouldBe(console.Server.Url.TrimEnd('/'));
        (await page.Locator("[data-enroll-command]").InnerTextAsync()).ShouldContain("env=e2e,role=ui");
        await ConsoleFixture.ScreenshotAsync(page, "settings-enrollment");

        // The table lists the token by the secret's prefix, never the secret.
        var secret = match.Groups["token"].Value;
        var row = page.Locator("tr[data-enrollment]", new PageLocatorOptions { HasText = secret[..12] });
        (await row.InnerTextAsync()).ShouldContain("0/3");
        (await page.Locator("table").InnerTextAsync()).ShouldNotContain(secret);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Send_test_on_a_webhook_channel_reaches_a_listener_and_says_delivered()
    {
        using var receiver = new WebhookReceiver();
        var page = await OpenAsync("/settings/notifications");
        var name = Unique("ui-hook");
        await page.FillAsync("#channel-name", name);
        await page.SelectOptionAsync("#channel-kind", "webhook");
        await page.FillAsync("#channel-url", receiver.Url + "medic");
        await page.FillAsync("#channel-secret", "a signing secret of some length");
        await page.ClickAsync("[data-action=add-channel]");
        var row = page.Locator($"tr[data-channel='{name}']");
        await row.WaitForAsync();
        (await row.InnerTextAsync()).ShouldContain("signing_secret");
        (await page.ContentAsync()).ShouldNotContain("a signing secret of some length");

        await row.Locator("[data-action=test]").ClickAsync();
        await row.Locator("[data-test-result=delivered]").WaitForAsync();
        receiver.Requests.ShouldContain(r => r.Method == "POST" && r.Path == "/medic");
        await ConsoleFixture.ScreenshotAsync(page, "settings-notifications");

        await row.Locator("[data-action=remove]").ClickAsync();
        await row.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_silence_is_added_active_and_expired_from_the_page()
    {
        var page = await OpenAsync("/settings/silences");
        var alert = Unique("UiAlert");
        await page.FillAsync("#silence-matchers", $"alertname={alert}\nenv!=staging");
        await page.FillAsync("#silence-duration", "30m");
        await page.FillAsync("#silence-comment", "console test");
        await page.ClickAsync("[data-action=add-silence]");
        var row = page.Locator("tr[data-silence]", new PageLocatorOptions { HasText = alert });
        await row.And(page.Locator("[data-state=active]")).WaitForAsync();
        (await row.InnerTextAsync()).ShouldContain("env!=\"staging\"");

        await row.Locator("[data-action=expire]").ClickAsync();
        await row.And(page.Locator("[data-state=expired]")).WaitForAsync();
        var listed = await console.Home.RunAsync("silences", "list", "--state", "expired");
        listed.ExitCode.ShouldBe(0, listed.ToString());
        listed.Stdout.Split('\n').Single(l => l.Contains(alert, StringComparison.Ordinal)).ShouldContain("expired");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_bad_matcher_is_explained_and_nothing_is_sent()
    {
        var page = await OpenAsync("/settings/silences");
        await page.FillAsync("#silence-matchers", "just-a-word");
        await page.FillAsync("#silence-comment", "console test");
        await page.ClickAsync("[data-action=add-silence]");
        await page.Locator(".problem[role=alert]").WaitForAsync();
        (await page.Locator(".problem[role=alert]").InnerTextAsync()).ShouldContain("'just-a-word' is not a label matcher");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_secret_shows_its_name_and_length_and_never_its_value()
    {
        var page = await OpenAsync("/settings/secrets");
        var name = Unique("ui-secret");
        var value = "value-" + Guid.NewGuid().ToString("N");
        (await page.GetAttributeAsync("#secret-value", "type")).ShouldBe("password");
        await page.FillAsync("#secret-name", name);
        await page.FillAsync("#secret-value", value);
        await page.FillAsync("#secret-description", "console test");
        await page.ClickAsync("[data-action=set-secret]");
        var row = page.Locator($"tr[data-secret='{name}']");
        await row.WaitForAsync();
        (await row.InnerTextAsync()).ShouldContain(value.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        (await page.InputValueAsync("#secret-value")).ShouldBeEmpty();
        (await page.ContentAsync()).ShouldNotContain(value);
        await ConsoleFixture.ScreenshotAsync(page, "settings-secrets");

        await row.Locator("[data-action=delete]").ClickAsync();
        await row.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
        var listed = await console.Home.RunAsync("secrets", "list");
        listed.Stdout.ShouldNotContain(name);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_operator_sees_no_admin_sections_and_the_api_refuses_them()
    {
        var name = Unique("ui-operator");
        const string password = "operator console password";
        var added = await console.Home.RunWithInputAsync(password + "\n", "users", "add", name, "--role", "operator", "--password-stdin");
        added.ExitCode.ShouldBe(0, added.ToString());

        var page = await OpenAsync("/settings", name, password);
        var sections = await page.Locator("[data-section]").AllInnerTextsAsync();
        sections.ShouldContain("Silences");
        sections.ShouldNotContain("Secrets");
        sections.ShouldNotContain("Enrollment");
        sections.ShouldNotContain("Notifications");
        (await page.Locator("nav").AllInnerTextsAsync()).ShouldNotContain(t => t.Contains("Audit", StringComparison.Ordinal));

        foreach (var path in new[] { "/settings/secrets", "/settings/enrollment", "/audit" })
        {
            await page.GotoAsync(path);
            page.Url.ShouldContain("/denied");
            (await page.Locator(".empty-state h2").InnerTextAsync()).ShouldBe("Not allowed");
        }

        // The API decides, whatever the page shows: the session's own requests are refused.
        foreach (var path in new[] { "/api/v1/secrets", "/api/v1/enrollment-tokens", "/api/v1/audit", "/api/v1/notification-channels" })
        {
            var answer = await page.APIRequest.GetAsync(path);
            answer.Status.ShouldBe(403, path);
            (await answer.TextAsync()).ShouldContain("This call needs the 'administer' permission");
        }

        // Operators may silence: the section is there, with its form.
        await page.GotoAsync("/settings/silences");
        await ConsoleFixture.WaitInteractiveAsync(page);
        await page.Locator("[data-action=add-silence]").WaitForAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Change_windows_checks_and_webhook_credentials_are_managed_from_their_pages()
    {
        var page = await OpenAsync("/settings/windows");
        var reason = Unique("ui-window");
        await page.FillAsync("#window-duration", "1h");
        await page.FillAsync("#window-reason", reason);
        await page.ClickAsync("[data-action=add-window]");
        var window = page.Locator("tr[data-window]", new PageLocatorOptions { HasText = reason });
        (await window.InnerTextAsync()).ShouldContain("now");
        await window.Locator("[data-action=remove]").ClickAsync();
        await window.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });

        await page.GotoAsync("/settings/monitors");
        await ConsoleFixture.WaitInteractiveAsync(page);
        var name = Unique("ui-check");
        var port = new Uri(console.Server.Url).Port;
        await page.FillAsync("#check-name", name);
        await page.SelectOptionAsync("#check-kind", "tcp");
        await page.FillAsync("#check-target", $"127.0.0.1:{port}");
        await page.ClickAsync("[data-action=add-check]");
        var check = page.Locator($"tr[data-check='{name}']");
        (await check.InnerTextAsync()).ShouldContain($"127.0.0.1:{port}");
        await check.Locator("[data-action=remove]").ClickAsync();
        await check.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });

        await page.GotoAsync("/settings/webhooks");
        await ConsoleFixture.WaitInteractiveAsync(page);
        (await page.Locator("[data-webhook-credentials]").CountAsync()).ShouldBe(0, "credentials are shown only on request");
        await page.ClickAsync("[data-action=show-credentials]");
        var alertmanager = page.Locator("tr[data-webhook-source=alertmanager] code");
        (await alertmanager.InnerTextAsync()).ShouldContain("/api/v1/webhooks/alerts/");
        var shown = await console.Home.RunAsync("audit", "list", "--action", "webhooks.credentials.show");
        shown.ExitCode.ShouldBe(0, shown.ToString());
        shown.Stdout.ShouldContain("webhooks.credentials.show");
        await page.Context.CloseAsync();
    }

    [GeneratedRegex(@"^curl -fsSL (?<server>\S+)/install\.sh \| sudo sh -s -- --token (?<token>mde_\S+)$")]
    private static partial Regex EnrollCommand();
}
