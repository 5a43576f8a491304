using System.Text.Json;
using Microsoft.Playwright;

namespace Medic.E2E.Tests.Console;

/// <summary>The servers list and a server's page in a real browser against <c>medic up</c> and its agent on this machine.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ServersTests(ConsoleFixture console)
{
    private static readonly string Hostname = Environment.MachineName;

    /// <summary>Enrolls servers whose agents never connect (so they stay offline), tagged env=ENV; returns their names.</summary>
    private async Task<string[]> EnrollOfflineAsync(string prefix, string env, int count)
    {
        var created = await console.Home.RunAsync("enroll-token", "create", "--tags", "env=" + env, "--uses", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var token = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("secret").GetString()!;
        var names = Enumerable.Range(1, count).Select(i => $"{prefix}-{i}").ToArray();
        foreach (var name in names)
        {
            var enroll = await console.Home.RunAsync("agent", "enroll", "--server", console.Server.Url, "--token", token, "--name", name, "--config", Path.Combine(console.Home.Home, name, "agent.json"));
            enroll.ExitCode.ShouldBe(0, enroll.ToString());
        }

        return names;
    }

    private static async Task<string[]> RowsAsync(IPage page) =>
        [.. (await page.Locator("[data-server]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.getAttribute('data-server'))")).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task The_list_shows_this_machine_online_and_filters_by_name_status_and_environment()
    {
        var prefix = "lst" + Guid.NewGuid().ToString("N")[..8];
        var env = "qa" + prefix;
        var offline = await EnrollOfflineAsync(prefix, env, 2);
        var page = await console.SignedInPageAsync();

        await page.GotoAsync("/servers");
        await ConsoleFixture.WaitInteractiveAsync(page);
        // medic up's own agent enrolls this machine; the list refreshes itself until it is online.
        await page.Locator($"[data-server='{Hostname}'] [data-status=online]").WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        await ConsoleFixture.ScreenshotAsync(page, "servers");

        await page.FillAsync("#filter-text", prefix.ToUpperInvariant());
        await page.PressAsync("#filter-text", "Enter");
        await page.WaitForURLAsync(url => url.Contains("q=" + prefix.ToUpperInvariant(), StringComparison.Ordinal));
        await Assertions.Expect(page.Locator("[data-server]")).ToHaveCountAsync(2);
        (await RowsAsync(page)).ShouldBe(offline);

        await page.SelectOptionAsync("#filter-status", "online");
        await page.WaitForURLAsync(url => url.Contains("status=online", StringComparison.Ordinal));
        await Assertions.Expect(page.Locator("[data-server]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-total]")).ToHaveAttributeAsync("data-total", "0");

        await page.SelectOptionAsync("#filter-status", "offline");
        await Assertions.Expect(page.Locator("[data-server]")).ToHaveCountAsync(2);

        // The address alone carries the filters, as the overview's links use it.
        await page.GotoAsync("/servers?status=offline");
        await page.Locator($"[data-server='{offline[0]}']").WaitForAsync();
        await Assertions.Expect(page.Locator($"[data-server='{Hostname}']")).ToHaveCountAsync(0);
        await page.GotoAsync($"/servers?env={env}&status=offline");
        await Assertions.Expect(page.Locator("[data-server]")).ToHaveCountAsync(2);

        await page.GotoAsync("/servers?tag=not-a-pair");
        (await page.Locator("p.problem[role=alert]").InnerTextAsync()).ShouldContain("is not key=value");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_server_page_shows_facts_and_charts_and_runs_a_diagnostic_on_this_machine()
    {
        await console.Home.WaitForStatusAsync(Hostname, "online", TimeSpan.FromSeconds(60));
        var page = await console.SignedInPageAsync();

        await page.GotoAsync("/servers");
        await page.ClickAsync($"[data-server='{Hostname}'] a");
        await page.WaitForURLAsync(url => url.EndsWith("/servers/" + Hostname, StringComparison.Ordinal));
        await ConsoleFixture.WaitInteractiveAsync(page);
        (await page.Locator("[data-fact=hostname]").InnerTextAsync()).ShouldNotBeNullOrWhiteSpace();
        (await page.Locator("[data-fact=cpus]").InnerTextAsync()).ShouldMatch("^[1-9][0-9]*$");
        // The first heartbeat makes the first point; the page refreshes itself until it is drawn.
        await page.Locator("[data-chart=cpu] svg").WaitForAsync(new LocatorWaitForOptions { Timeout = 90_000 });
        int.Parse(await page.Locator("[data-chart=cpu]").GetAttributeAsync("data-points") ?? "0", System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(0);
        await page.Locator("[data-chart=disk]").WaitForAsync();

        await page.SelectOptionAsync("#diag-verb", "system");
        await page.ClickAsync("#diag-run");
        await page.Locator("[data-diag-output]").WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        (await page.Locator("[data-diag-status]").GetAttributeAsync("data-diag-status")).ShouldBe("completed");
        var output = await page.Locator("[data-diag-output]").InnerTextAsync();
        output.ShouldContain("hostname: ");
        output.ShouldContain("kernel");
        await ConsoleFixture.ScreenshotAsync(page, "server");

        // The agent checks the arguments; its refusal is shown, not hidden.
        await page.SelectOptionAsync("#diag-verb", "service-status");
        await page.FillAsync("#diag-args", "");
        await page.ClickAsync("#diag-run");
        await Assertions.Expect(page.Locator("[data-diag-status]")).Not.ToHaveAttributeAsync("data-diag-status", "completed");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_sees_the_server_but_not_the_diagnostic_panel_and_an_unknown_server_says_not_found()
    {
        var name = "viewer" + Guid.NewGuid().ToString("N")[..8];
        const string password = "viewer password for servers";
        var added = await console.Home.RunWithInputAsync(password + "\n", "users", "add", name, "--role", "viewer", "--password-stdin");
        added.ExitCode.ShouldBe(0, added.ToString());
        await console.Home.WaitForStatusAsync(Hostname, "online", TimeSpan.FromSeconds(60));
        var page = await console.SignedInPageAsync(name, password);

        await page.GotoAsync("/servers/" + Hostname);
        await ConsoleFixture.WaitInteractiveAsync(page);
        await page.Locator("[data-fact=hostname]").WaitForAsync();
        await Assertions.Expect(page.Locator("[data-panel=diag]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#diag-run")).ToHaveCountAsync(0);

        await page.GotoAsync("/servers/no-such-server-" + name);
        (await page.Locator("h1").InnerTextAsync()).ShouldBe("Server not found");
        await page.Context.CloseAsync();
    }
}
