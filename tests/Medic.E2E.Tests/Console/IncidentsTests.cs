using System.Diagnostics;
using Microsoft.Playwright;
using static Medic.E2E.Tests.Console.ConsoleSteps;

namespace Medic.E2E.Tests.Console;

/// <summary>The incident list and page in a real browser against <c>medic up</c> and its agent.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class IncidentsTests(ConsoleFixture console)
{
    private static readonly string ServiceDll = Path.Combine(AppContext.BaseDirectory, "medic-test-http.dll");

    [Fact]
    public async Task Killing_a_monitored_process_shows_the_incident_appear_and_resolve_without_a_reload()
    {
        var name = Unique("shop");
        var port = MedicHome.FreePort();
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        await console.Home.WaitForStatusAsync(Host, "online", TimeSpan.FromSeconds(60));
        var page = await console.SignedInPageAsync();
        try
        {
            await page.GotoAsync("/incidents?source=agent");
            await ConsoleFixture.WaitInteractiveAsync(page);
            // Set once: a reload would lose it.
            await page.EvaluateAsync("() => window.medicNoReload = true");

            var add = await console.Home.RunAsync("monitors", "add", name, "--server", Host, "--kind", "process", "--start", $"'{dotnet}' '{ServiceDll}' --port {port}",
                "--health-http", $"http://127.0.0.1:{port}/", "--heal");
            add.ExitCode.ShouldBe(0, add.ToString());
            var pid = await EventuallyAsync(() => PidAsync(port), TimeSpan.FromSeconds(60), () => "the monitor never started the service:\n" + console.Server.Stdout);
            using (var kill = Process.Start("kill", ["-KILL", pid]))
            {
                await kill!.WaitForExitAsync();
            }

            var row = page.Locator("tr[data-incident]", new() { HasText = name });
            await row.WaitForAsync(new() { Timeout = 60_000 });
            await page.Locator("tr[data-incident][data-status=resolved]", new() { HasText = name }).WaitForAsync(new() { Timeout = 60_000 });
            (await page.EvaluateAsync<bool>("() => window.medicNoReload === true")).ShouldBeTrue("the list updated by reloading the page");

            // The incident's page: its timeline shows it opened and healed, with the evidence the agent sent.
            var id = await row.GetAttributeAsync("data-incident");
            await page.GotoAsync("/incidents?source=agent&text=" + Uri.EscapeDataString(name));
            await page.Locator($"tr[data-incident='{id}']").WaitForAsync();
            await ConsoleFixture.ScreenshotAsync(page, "incidents");
            await page.ClickAsync($"tr[data-incident='{id}'] a");
            await page.WaitForURLAsync($"**/incidents/{id}");
            await ConsoleFixture.WaitInteractiveAsync(page);
            (await page.Locator("[data-incident-status]").GetAttributeAsync("data-incident-status")).ShouldBe("resolved");
            await page.Locator("tr[data-event=opened]").First.WaitForAsync();
            await page.Locator("tr[data-event=resolved]").First.WaitForAsync();

            // Comment and acknowledge-less resolve are in the API; a comment shows on the timeline live.
            await page.FillAsync("#incident-comment", "seen from the console <b>bold</b>");
            await page.ClickAsync("[data-action=comment]");
            await page.Locator("tr[data-event=comment]", new() { HasText = "seen from the console <b>bold</b>" }).WaitForAsync();
            await page.ClickAsync("[data-action=report]");
            (await page.Locator("[data-report]").InnerTextAsync()).ShouldContain(name);
            await ConsoleFixture.ScreenshotAsync(page, "incident");
        }
        finally
        {
            await page.Context.CloseAsync();
            await console.Home.RunAsync("monitors", "remove", name);
        }
    }

    [Fact]
    public async Task A_new_incident_can_be_acknowledged_and_the_filters_are_the_address()
    {
        var title = Unique("disk full on the console test");
        var id = (await console.Home.JsonAsync("incidents", "create", "--title", title, "--severity", "critical")).GetProperty("id").GetString()!;
        var page = await console.SignedInPageAsync();
        try
        {
            await page.GotoAsync("/incidents?status=active&severity=critical");
            await ConsoleFixture.WaitInteractiveAsync(page);
            await page.Locator($"tr[data-incident='{id}']").WaitForAsync();
            (await page.Locator("[data-filter=severity]").InputValueAsync()).ShouldBe("critical");

            // Typing a filter and submitting changes the address, and the list follows.
            await page.FillAsync("[data-filter=text]", title.ToUpperInvariant());
            await page.ClickAsync("[data-action=filter]");
            await page.WaitForURLAsync(url => url.Contains("text=", StringComparison.Ordinal));
            await page.Locator("tr[data-incident]").First.WaitForAsync();
            (await page.Locator("tr[data-incident]").CountAsync()).ShouldBe(1);

            await page.ClickAsync($"tr[data-incident='{id}'] a");
            await page.WaitForURLAsync($"**/incidents/{id}");
            await ConsoleFixture.WaitInteractiveAsync(page);
            await page.ClickAsync("[data-action=acknowledge]");
            (await page.Locator("[data-acknowledged]").InnerTextAsync()).ShouldContain("user:admin");
            await page.Locator("tr[data-event=acknowledged]").WaitForAsync();

            await page.GotoAsync("/incidents/inc_not_there");
            (await page.Locator(".empty-state").InnerTextAsync()).ShouldContain("No incident 'inc_not_there' exists in this tenant.");
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    private static async Task<string?> PidAsync(int port)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        try
        {
            return await client.GetStringAsync($"http://127.0.0.1:{port}/pid");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }
}
