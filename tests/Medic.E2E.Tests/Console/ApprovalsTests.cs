using Microsoft.Playwright;
using static Medic.E2E.Tests.Console.ConsoleSteps;

namespace Medic.E2E.Tests.Console;

/// <summary>Approvals in a real browser: a second person approves a medium-risk recipe after seeing its plan and watches it run; a viewer cannot.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ApprovalsTests(ConsoleFixture console)
{
    private const string Password = "console approver password";

    [Fact]
    public async Task An_approver_approves_a_medium_recipe_from_the_approvals_page_and_watches_it_run()
    {
        await console.Home.WaitForStatusAsync(Host, "online", TimeSpan.FromSeconds(60));
        var directory = OldFilesDirectory();
        var (incident, approval) = await console.Home.PendingCleanupAsync(Unique("uploads over quota"), directory);
        var approver = Unique("carol");
        await console.Home.AddUserAsync(approver, "approver", Password);
        var page = await console.SignedInPageAsync(approver, Password);
        try
        {
            await page.GotoAsync("/approvals");
            await ConsoleFixture.WaitInteractiveAsync(page);
            // The waiting list only: once decided, the approval moves to the recently decided table.
            var row = page.Locator($"table.approvals tr[data-approval='{approval}']");
            (await row.InnerTextAsync()).ShouldContain("delete-old-files");
            await ConsoleFixture.ScreenshotAsync(page, "approvals");

            // One click opens the plan to confirm: exactly what runs, where, with which parameters.
            await row.Locator("[data-action=approve]").ClickAsync();
            var dialog = page.Locator($"[data-confirm='{approval}']");
            await dialog.WaitForAsync();
            (await dialog.Locator("[data-plan-server]").InnerTextAsync()).ShouldBe(Host);
            (await dialog.Locator("[data-param=directory]").InnerTextAsync()).ShouldBe(directory);
            (await dialog.Locator("[data-plan-risk]").InnerTextAsync()).ShouldBe("medium");
            (await dialog.Locator("table.plan").InnerTextAsync()).ShouldContain(directory);
            Directory.GetFiles(directory).Length.ShouldBe(5, "nothing runs before the approver confirms");
            await page.FillAsync("#confirm-comment", "old uploads, safe to delete");
            await dialog.Locator("[data-action=confirm]").ClickAsync();
            (await page.Locator("[data-done]").InnerTextAsync()).ShouldStartWith("approved: delete-old-files");
            await row.WaitForAsync(new() { State = WaitForSelectorState.Detached });

            // The incident's page shows the run's output as it comes, and the remediation's end.
            await page.GotoAsync($"/incidents/{incident}");
            await ConsoleFixture.WaitInteractiveAsync(page);
            await page.Locator("[data-run] [data-step]").First.WaitForAsync(new() { Timeout = 60_000 });
            // (A manual incident has no check to verify with, so the remediation then waits for a person's confirmation.)
            await page.Locator("[data-run-status=succeeded]").WaitForAsync(new() { Timeout = 90_000 });
            (await page.Locator("tr[data-event]", new() { HasText = "old uploads, safe to delete" }).CountAsync()).ShouldBeGreaterThan(0);
            Directory.GetFiles(directory).Select(Path.GetFileName).ShouldBe(["fresh.bin"]);

            await page.GotoAsync($"/approvals/{approval}");
            await ConsoleFixture.WaitInteractiveAsync(page);
            (await page.Locator("[data-approval-status]").InnerTextAsync()).ShouldBe("approved");
            (await page.Locator("[data-decided]").InnerTextAsync()).ShouldContain($"user:{approver}");
            await ConsoleFixture.ScreenshotAsync(page, "approval");
        }
        finally
        {
            await page.Context.CloseAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_viewer_sees_the_plan_but_no_approve_button_and_a_forged_approve_is_refused()
    {
        await console.Home.WaitForStatusAsync(Host, "online", TimeSpan.FromSeconds(60));
        var directory = OldFilesDirectory();
        var (_, approval) = await console.Home.PendingCleanupAsync(Unique("viewer watches"), directory);
        var viewer = Unique("vera");
        await console.Home.AddUserAsync(viewer, "viewer", Password);
        var page = await console.SignedInPageAsync(viewer, Password);
        try
        {
            await page.GotoAsync("/approvals");
            await ConsoleFixture.WaitInteractiveAsync(page);
            var row = page.Locator($"tr[data-approval='{approval}']");
            await row.WaitForAsync();
            (await row.Locator("[data-action=approve]").CountAsync()).ShouldBe(0);
            await page.GotoAsync($"/approvals/{approval}");
            await ConsoleFixture.WaitInteractiveAsync(page);
            (await page.Locator("table.plan").InnerTextAsync()).ShouldContain(directory);
            (await page.Locator("[data-action=approve]").CountAsync()).ShouldBe(0);
            (await page.Locator("[data-cannot-decide]").InnerTextAsync()).ShouldContain("Your role cannot approve");

            // The same call the button would make, from the page: with the session cookie, with and without the antiforgery token.
            var statuses = await page.EvaluateAsync<int[]>("""
                async (id) => {
                  const url = '/api/v1/approvals/' + id + '/approve';
                  const bare = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: '{}' });
                  const t = await (await fetch('/api/v1/auth/antiforgery', { credentials: 'same-origin' })).json();
                  const headers = { 'Content-Type': 'application/json' };
                  headers[t.header_name] = t.token;
                  const withToken = await fetch(url, { method: 'POST', credentials: 'same-origin', headers, body: '{}' });
                  return [bare.status, withToken.status];
                }
                """, approval);
            statuses.ShouldBe([403, 403]);
            var still = (await console.Home.JsonAsync("approvals", "show", approval)).GetProperty("status").GetString();
            still.ShouldBe("pending");
            Directory.GetFiles(directory).Length.ShouldBe(5);
        }
        finally
        {
            await page.Context.CloseAsync();
            Directory.Delete(directory, recursive: true);
        }
    }
}
