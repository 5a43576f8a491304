using Microsoft.Playwright;

namespace Medic.E2E.Tests.Console;

/// <summary>The console in a real browser against <c>medic up</c>: sign-in, the overview, sign-out.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleOverviewTests(ConsoleFixture console)
{
    [Fact]
    public async Task A_new_user_signs_in_with_the_printed_password_and_sees_this_machine_online()
    {
        var page = await console.SignedInPageAsync();

        await page.Locator("h1").First.WaitForAsync();
        (await page.Locator("h1").First.InnerTextAsync()).ShouldBe("Overview");
        (await page.Locator(".who").InnerTextAsync()).ShouldContain("admin");
        (await page.Locator("[data-role]").InnerTextAsync()).ShouldContain("admin");
        // medic up's own agent enrolls this machine; the figure updates without a reload.
        await page.Locator("[data-figure=online] .figure").Filter(new LocatorFilterOptions { HasTextRegex = new System.Text.RegularExpressions.Regex("^[1-9]") })
            .WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        await ConsoleFixture.ScreenshotAsync(page, "overview");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_wrong_password_shows_the_one_answer_and_no_session()
    {
        var context = await console.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = console.Server.Url });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        page.Url.ShouldContain("/login");
        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", "not the password");
        await page.ClickAsync("button[type=submit]");
        await page.Locator("[role=alert]").WaitForAsync();
        (await page.Locator("[role=alert]").InnerTextAsync()).ShouldContain("The username or password is wrong.");
        (await context.CookiesAsync()).ShouldNotContain(c => c.Name == "medic.session");
        await context.CloseAsync();
    }

    [Fact]
    public async Task Signing_out_ends_the_session_and_the_next_page_asks_to_sign_in()
    {
        var page = await console.SignedInPageAsync();
        await page.ClickAsync("form.signout button");
        await page.WaitForURLAsync(url => url.Contains("/login", StringComparison.Ordinal));
        await page.GotoAsync("/");
        page.Url.ShouldContain("/login?ReturnUrl=%2F");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task At_phone_width_the_overview_fits_the_screen_and_the_dark_theme_sticks_across_pages()
    {
        var page = await console.SignedInPageAsync(width: 390, height: 844);

        await page.Locator("[data-figure=online]").WaitForAsync();
        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
        overflow.ShouldBeLessThanOrEqualTo(0, "nothing wider than the phone's screen");
        await ConsoleFixture.ScreenshotAsync(page, "overview-phone");

        await page.ClickAsync("[title='Light or dark theme']");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('link[rel=stylesheet]')].some(l => l.href.includes('-dark'))");
        await page.ReloadAsync();
        (await page.EvaluateAsync<bool>("() => [...document.querySelectorAll('link[rel=stylesheet]')].some(l => l.href.includes('-dark'))"))
            .ShouldBeTrue("the theme is kept in a cookie");
        await page.Context.CloseAsync();
    }
}
