namespace Medic.E2E.Tests.Console;

/// <summary>The AI page in a real browser against <c>medic up</c>, which has no AI model configured: the console works and says how to add one.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class AiTests(ConsoleFixture console)
{
    [Fact]
    public async Task Without_a_model_the_ai_page_says_how_to_configure_one_and_lists_no_runs()
    {
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/ai");
        var hint = page.Locator("[data-ai-unconfigured]");
        await hint.WaitForAsync();
        var text = await hint.InnerTextAsync();
        text.ShouldContain("No AI model is configured");
        text.ShouldContain("medic ai models add default");
        (await page.Locator("[data-ask-form]").CountAsync()).ShouldBe(0);
        (await page.Locator("[data-empty=ai-runs]").InnerTextAsync()).ShouldContain("No AI runs");
        await ConsoleFixture.ScreenshotAsync(page, "ai");

        await page.GotoAsync("/ai/runs/air_missing");
        (await page.Locator(".empty-state").InnerTextAsync()).ShouldContain("No such AI run");
        await page.Context.CloseAsync();
    }
}
