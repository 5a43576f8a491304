using System.Text.Json;
using Microsoft.Playwright;

namespace Medic.E2E.Tests.Console;

/// <summary>The audit page against <c>medic up</c>: the chain check, filters and the export.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class AuditTests(ConsoleFixture console)
{
    [Fact]
    public async Task The_page_says_the_chain_is_intact_and_a_full_check_agrees()
    {
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/audit");
        await ConsoleFixture.WaitInteractiveAsync(page);

        await page.Locator("[data-verify=intact]").WaitForAsync();
        (await page.Locator("[data-verify]").InnerTextAsync()).ShouldContain("since the last verification");
        await page.ClickAsync("[data-action=verify-all]");
        await page.Locator("[data-verify=intact]", new PageLocatorOptions { HasText = "Recomputed the whole chain" }).WaitForAsync();
        await ConsoleFixture.ScreenshotAsync(page, "audit");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_change_made_with_the_cli_is_found_by_its_filters_and_is_in_the_export()
    {
        var name = "audit-" + Guid.NewGuid().ToString("N")[..8];
        var added = await console.Home.RunAsync("users", "add", name, "--role", "viewer");
        added.ExitCode.ShouldBe(0, added.ToString());

        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/audit");
        await ConsoleFixture.WaitInteractiveAsync(page);
        await page.FillAsync("#audit-action", "user.create");
        await page.FillAsync("#audit-since", "1h");
        await page.ClickAsync("form.inline-form button[type=submit]");
        var row = page.Locator("tr[data-audit]", new PageLocatorOptions { HasText = "username=" + name });
        await row.WaitForAsync();
        (await page.Locator("tr[data-audit]").AllInnerTextsAsync()).ShouldAllBe(text => text.Contains("user.create", StringComparison.Ordinal));

        // The export link carries the filters: only user.create entries, as JSON lines.
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("[data-action=export]"));
        download.SuggestedFilename.ShouldStartWith("medic-audit-");
        var path = await download.PathAsync();
        var lines = (await File.ReadAllLinesAsync(path)).Where(l => l.Length > 0).ToList();
        lines.ShouldNotBeEmpty();
        var entries = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        entries.ShouldAllBe(e => e.GetProperty("action").GetString() == "user.create");
        entries.ShouldContain(e => e.GetProperty("details").GetProperty("username").GetString() == name);
        entries.ShouldAllBe(e => e.GetProperty("hash").GetString()!.Length == 64);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_since_that_is_not_a_time_is_explained_on_the_page()
    {
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/audit");
        await ConsoleFixture.WaitInteractiveAsync(page);
        await page.FillAsync("#audit-since", "yesterday-ish");
        await page.ClickAsync("form.inline-form button[type=submit]");
        await page.Locator(".problem[role=alert]").WaitForAsync();
        (await page.Locator(".problem[role=alert]").InnerTextAsync()).ShouldContain("'yesterday-ish' is neither a time");
        await page.Context.CloseAsync();
    }
}
