using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;

namespace Medic.E2E.Tests.Console;

/// <summary>
/// The settings forms that used to need the CLI, against <c>medic up</c>: agent monitors, command
/// checks, e-mail channels and routing rules, a source's own webhook credential, a password reset,
/// and the list of past runbook runs. Every change goes through the API; its answers show on the page.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class SettingsFormsTests(ConsoleFixture console) : IDisposable
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("medic-console-forms-");

    private async Task<IPage> OpenAsync(string path, string username = "admin", string password = ConsoleFixture.AdminPassword)
    {
        var page = await console.SignedInPageAsync(username, password);
        await page.GotoAsync(path);
        await ConsoleFixture.WaitInteractiveAsync(page);
        return page;
    }

    [Fact]
    public async Task A_monitor_is_added_from_the_form_with_the_apis_answer_under_the_field_it_names()
    {
        var page = await OpenAsync("/settings/monitors");
        var name = ConsoleSteps.Unique("ui-mon");
        await page.FillAsync("#monitor-name", name);
        await page.SelectOptionAsync("#monitor-kind", "Http");
        await page.FillAsync("#monitor-server", ConsoleSteps.Host);
        await page.FillAsync("#monitor-url", "ftp://127.0.0.1/");
        await page.FillAsync("#monitor-interval", "soon");
        await page.ClickAsync("[data-action=add-monitor]");

        // Read on the page first: a duration that is not one never reaches the API.
        (await page.Locator("[data-field-problem='definition.interval_seconds']").InnerTextAsync()).ShouldContain("'soon' is not a duration");
        await page.FillAsync("#monitor-interval", "30s");
        await page.ClickAsync("[data-action=add-monitor]");
        // The API's own answer, under the URL field.
        (await page.Locator("[data-field-problem='definition.url']").InnerTextAsync()).ShouldContain("an http:// or https:// URL");
        (await page.Locator("[data-field-problem='definition.interval_seconds']").CountAsync()).ShouldBe(0);

        await page.FillAsync("#monitor-url", console.Server.Url.TrimEnd('/') + "/healthz");
        await page.ClickAsync("[data-action=add-monitor]");
        var row = page.Locator($"tr[data-monitor='{name}']");
        await row.WaitForAsync();
        (await row.InnerTextAsync()).ShouldContain(ConsoleSteps.Host);
        (await page.Locator("[data-field-problem]").CountAsync()).ShouldBe(0);
        await ConsoleFixture.ScreenshotAsync(page, "settings-monitors");

        var listed = await console.Home.JsonAsync("monitors", "list");
        var monitor = listed.EnumerateArray().Single(m => m.GetProperty("name").GetString() == name);
        monitor.GetProperty("kind").GetString().ShouldBe("http");

        await row.Locator("[data-action=remove]").ClickAsync();
        await row.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_command_check_runs_on_a_named_server_and_a_bad_interval_is_answered_under_its_field()
    {
        var page = await OpenAsync("/settings/monitors");
        var name = ConsoleSteps.Unique("ui-cmd");
        await page.FillAsync("#check-name", name);
        await page.SelectOptionAsync("#check-kind", "command");
        await page.FillAsync("#check-command", "true");
        await page.FillAsync("#check-server", ConsoleSteps.Host);
        await page.FillAsync("#check-interval", "1s");
        await page.ClickAsync("[data-action=add-check]");
        (await page.Locator("[data-field-problem=interval]").InnerTextAsync()).ShouldContain("a duration from 10s to 1d");

        await page.FillAsync("#check-interval", "1h");
        await page.ClickAsync("[data-action=add-check]");
        var row = page.Locator($"tr[data-check='{name}']");
        (await row.InnerTextAsync()).ShouldContain("on " + ConsoleSteps.Host);
        var listed = await console.Home.JsonAsync("checks", "list");
        listed.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name).GetProperty("kind").GetString().ShouldBe("command");

        await row.Locator("[data-action=remove]").ClickAsync();
        await row.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_email_channel_keeps_its_password_sealed_and_a_routing_rule_sends_to_it()
    {
        var page = await OpenAsync("/settings/notifications");
        var channel = ConsoleSteps.Unique("ui-mail");
        var password = "smtp-" + Guid.NewGuid().ToString("N");
        await page.FillAsync("#channel-name", channel);
        await page.SelectOptionAsync("#channel-kind", "email");
        await page.FillAsync("#channel-smtp-host", "smtp.example.com");
        await page.FillAsync("#channel-smtp-port", "587");
        await page.CheckAsync("#channel-starttls");
        await page.FillAsync("#channel-smtp-user", "medic");
        await page.FillAsync("#channel-from", "medic@example.com");
        await page.FillAsync("#channel-to", "not-an-address");
        await page.FillAsync("#channel-secret", password);
        (await page.GetAttributeAsync("#channel-secret", "type")).ShouldBe("password");
        await page.ClickAsync("[data-action=add-channel]");
        (await page.Locator("[data-field-problem=to]").InnerTextAsync()).ShouldContain("give 1 to 50 recipient addresses");

        await page.FillAsync("#channel-to", "ops@example.com, oncall@example.com");
        await page.ClickAsync("[data-action=add-channel]");
        var row = page.Locator($"tr[data-channel='{channel}']");
        await row.WaitForAsync();
        (await row.InnerTextAsync()).ShouldContain("ops@example.com, oncall@example.com via smtp.example.com:587");
        (await row.InnerTextAsync()).ShouldContain("password");
        (await page.InputValueAsync("#channel-secret")).ShouldBeEmpty();
        (await page.ContentAsync()).ShouldNotContain(password);

        var rule = ConsoleSteps.Unique("ui-rule");
        await page.FillAsync("#rule-name", rule);
        await page.CheckAsync($"[data-rule-channel='{channel}']");
        await page.SelectOptionAsync("#rule-severity", "warning");
        await page.UncheckAsync("[data-rule-event=acknowledged]");
        await page.FillAsync("#rule-labels", "team=payments");
        await page.FillAsync("#rule-renotify", "30s");
        await page.ClickAsync("[data-action=add-rule]");
        (await page.Locator("[data-field-problem=renotify_every]").InnerTextAsync()).ShouldContain("a duration from 1m to 7d, or off");
        await page.FillAsync("#rule-renotify", "2h");
        await page.ClickAsync("[data-action=add-rule]");
        var ruleRow = page.Locator($"tr[data-rule='{rule}']");
        await ruleRow.WaitForAsync();
        var ruleText = await ruleRow.InnerTextAsync();
        ruleText.ShouldContain(channel);
        ruleText.ShouldContain("warning and above, team=payments");
        ruleText.ShouldNotContain("acknowledged");
        await ConsoleFixture.ScreenshotAsync(page, "settings-notification-rules");

        var rules = await console.Home.JsonAsync("notify", "rules", "list");
        var stored = rules.EnumerateArray().Single(r => r.GetProperty("name").GetString() == rule);
        stored.GetProperty("renotify_every_seconds").GetInt32().ShouldBe(7200);

        // A channel a rule sends to cannot be removed: the API says which rule, on the page.
        await row.Locator("[data-action=remove]").ClickAsync();
        (await page.Locator(".problem[role=alert]").First.InnerTextAsync()).ShouldContain(rule);
        await ruleRow.Locator("[data-action=remove-rule]").ClickAsync();
        await ruleRow.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
        await row.Locator("[data-action=remove]").ClickAsync();
        await row.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Basic_auth_set_for_one_source_lets_its_deliveries_in_and_is_never_shown()
    {
        var page = await OpenAsync("/settings/webhooks");
        await page.SelectOptionAsync("#credential-source", "alertmanager");
        await page.SelectOptionAsync("#credential-kind", "basic_auth");
        await page.FillAsync("#credential-username", "am-sender");
        await page.FillAsync("#credential-password", "short");
        await page.ClickAsync("[data-action=set-source-credential]");
        (await page.Locator("[data-field-problem=password]").InnerTextAsync()).ShouldContain("must be at least 16 characters");

        var password = "am-" + Guid.NewGuid().ToString("N");
        await page.FillAsync("#credential-password", password);
        await page.ClickAsync("[data-action=set-source-credential]");
        var row = page.Locator("tr[data-source-credential='alertmanager:basic_auth']");
        await row.WaitForAsync();
        (await row.InnerTextAsync()).ShouldContain("am-sender");
        (await page.ContentAsync()).ShouldNotContain(password);

        await page.ClickAsync("[data-action=show-credentials]");
        var url = await page.Locator("tr[data-webhook-source=alertmanager] code").InnerTextAsync();
        (await page.Locator("tr[data-webhook-source=alertmanager]").InnerTextAsync()).ShouldContain("own basic auth set");
        using (var http = new HttpClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new StringContent("""{"version":"4","status":"resolved","alerts":[]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("am-sender:" + password)));
            var answer = await http.SendAsync(request);
            ((int)answer.StatusCode).ShouldBeLessThan(300, await answer.Content.ReadAsStringAsync());
        }

        await row.Locator("[data-action=clear-source-credential]").ClickAsync();
        await row.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_admin_resets_a_password_which_is_shown_once_and_replaces_the_old_one()
    {
        var name = ConsoleSteps.Unique("ui-reset");
        const string old = "the old password of this user";
        await console.Home.AddUserAsync(name, "viewer", old);

        var page = await OpenAsync("/settings/users");
        var row = page.Locator($"tr[data-user='{name}']");
        await row.Locator("[data-action=reset-password]").ClickAsync();
        await row.Locator("[data-action=confirm-reset]").ClickAsync();
        var shown = page.Locator($"[data-reset-user='{name}'] code");
        await shown.WaitForAsync();
        var password = await shown.InnerTextAsync();
        password.Length.ShouldBeGreaterThanOrEqualTo(12);

        var theirs = await console.SignedInPageAsync(name, password);
        (await theirs.Locator("[data-role]").InnerTextAsync()).ShouldContain("viewer");
        await theirs.Context.CloseAsync();

        using (var http = new HttpClient { BaseAddress = new Uri(console.Server.Url) })
        {
            var token = await http.PostAsync(new Uri("/api/v1/auth/token", UriKind.Relative),
                new StringContent(JsonSerializer.Serialize(new { username = name, password = old }), Encoding.UTF8, "application/json"));
            ((int)token.StatusCode).ShouldBe(401);
        }

        await page.ClickAsync("[data-action=close-reset]");
        (await page.ContentAsync()).ShouldNotContain(password);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Past_runbook_runs_are_listed_newest_first_and_filtered_by_runbook_and_status()
    {
        var name = ConsoleSteps.Unique("console-runs");
        var file = Path.Combine(_work.FullName, name + ".yaml");
        await File.WriteAllTextAsync(file, $"name: {name}\nversion: 1\nrisk: low\nsteps:\n  - name: hello\n    notify: hello from the console test\n");
        (await console.Home.RunAsync("runbook", "apply", "-f", file)).ExitCode.ShouldBe(0);
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var run = await console.Home.JsonAsync("runbook", "run", name, "--server", ConsoleSteps.Host);
            ids.Add(run.GetProperty("id").GetString()!);
        }

        var page = await OpenAsync("/runbooks");
        await page.ClickAsync("[data-link=runs]");
        await page.WaitForURLAsync(url => url.EndsWith("/runbooks/runs", StringComparison.Ordinal));
        await ConsoleFixture.WaitInteractiveAsync(page);
        await page.FillAsync("[data-filter=runbook]", name);
        // The runbook box suggests names (a datalist): when it holds the one typed, Chromium opens the
        // suggestions and a click elsewhere only closes them. Escape closes them first, as a user would.
        await page.PressAsync("[data-filter=runbook]", "Escape");
        await page.ClickAsync("[data-action=filter]");
        await page.WaitForURLAsync(url => url.Contains("runbook=" + name, StringComparison.Ordinal));
        var rows = page.Locator("tr[data-run]");
        await rows.Nth(1).WaitForAsync();
        (await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.run)")).ShouldBe([ids[1], ids[0]]);
        (await rows.First.GetAttributeAsync("data-status")).ShouldBe("succeeded");
        await ConsoleFixture.ScreenshotAsync(page, "runbook-runs");

        await page.GotoAsync($"/runbooks/runs?runbook={name}&status=failed");
        await page.Locator("[data-empty=filtered]").WaitForAsync();
        await page.GotoAsync("/runbooks/runs?status=nonsense");
        (await page.Locator(".problem[role=alert]").InnerTextAsync()).ShouldContain("Status 'nonsense' is not one of");

        await page.GotoAsync($"/runbooks/runs?runbook={name}");
        await page.ClickAsync($"tr[data-run='{ids[0]}'] a");
        await page.WaitForURLAsync(url => url.EndsWith("/runbooks/runs/" + ids[0], StringComparison.Ordinal));

        var listed = await console.Home.JsonAsync("runbook", "runs", "--runbook", name);
        listed.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ShouldBe([ids[1], ids[0]]);
        await page.Context.CloseAsync();
    }

    public void Dispose() => _work.Delete(recursive: true);
}
