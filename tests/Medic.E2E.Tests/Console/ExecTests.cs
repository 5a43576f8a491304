using Microsoft.Playwright;

namespace Medic.E2E.Tests.Console;

/// <summary>Fleet exec in a real browser against <c>medic up</c>, whose agent grants exec on this machine.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ExecTests(ConsoleFixture console)
{
    [Fact]
    public async Task Exec_previews_the_matched_servers_and_shows_this_machines_output_live()
    {
        var host = Environment.MachineName;
        await console.Home.WaitForStatusAsync(host, "online", TimeSpan.FromSeconds(60));
        var marker = "console-exec-" + Guid.NewGuid().ToString("N")[..8];
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/exec");
        await ConsoleFixture.WaitInteractiveAsync(page);

        await page.FillAsync("input[data-target=names]", host);
        await page.PressAsync("input[data-target=names]", "Tab");
        await page.Locator($"[data-preview] [data-server='{host}']").WaitForAsync();
        (await page.Locator("[data-preview] [data-matched]").GetAttributeAsync("data-matched")).ShouldBe("1");

        await page.FillAsync("[data-command]", $"echo {marker}; echo to-stderr >&2");
        await page.SelectOptionAsync("[data-strategy]", "serial");
        await page.ClickAsync("[data-exec-form] button[data-run]");
        var result = page.Locator($"[data-result='{host}']");
        await Assertions.Expect(result).ToHaveAttributeAsync("data-result-status", "completed", new() { Timeout = 30_000 });
        (await result.Locator("[data-stdout]").InnerTextAsync()).Trim().ShouldBe(marker);
        (await result.Locator("[data-stderr]").InnerTextAsync()).Trim().ShouldBe("to-stderr");
        await Assertions.Expect(page.Locator("[data-execution-status]")).ToHaveAttributeAsync("data-execution-status", "completed");
        await ConsoleFixture.ScreenshotAsync(page, "exec");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_selector_that_matches_nothing_previews_no_server_and_the_apis_refusal_is_shown()
    {
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/exec");
        await ConsoleFixture.WaitInteractiveAsync(page);
        var tag = "role=nothing-" + Guid.NewGuid().ToString("N")[..8];
        await page.FillAsync("input[data-target=tags]", tag);
        await page.PressAsync("input[data-target=tags]", "Tab");
        await Assertions.Expect(page.Locator("[data-preview] [data-matched]")).ToHaveAttributeAsync("data-matched", "0");

        await page.FillAsync("[data-command]", "echo never");
        await page.ClickAsync("[data-exec-form] button[data-run]");
        var problem = page.Locator("[data-problem]");
        await problem.WaitForAsync();
        var text = await problem.InnerTextAsync();
        text.ShouldContain("The selector matches no server of this tenant.");
        text.ShouldContain("medic servers list"); // the API's remedy comes with it
        (await page.Locator("[data-execution]").CountAsync()).ShouldBe(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_sees_why_there_is_no_exec_form_and_no_menu_entry()
    {
        var name = "viewer-" + Guid.NewGuid().ToString("N")[..8];
        const string password = "viewer password for the exec page";
        var added = await console.Home.RunWithInputAsync(password + "\n", "users", "add", name, "--role", "viewer", "--password-stdin");
        added.ExitCode.ShouldBe(0, added.ToString());
        var page = await console.SignedInPageAsync(name, password);
        await page.GotoAsync("/exec");
        await ConsoleFixture.WaitInteractiveAsync(page);
        (await page.Locator(".empty-state").InnerTextAsync()).ShouldContain("needs the operator role");
        (await page.Locator("[data-exec-form]").CountAsync()).ShouldBe(0);
        (await page.Locator("a[href='/exec']").CountAsync()).ShouldBe(0);
        await page.Context.CloseAsync();
    }
}
