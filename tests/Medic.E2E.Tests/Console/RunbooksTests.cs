using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Medic.E2E.Tests.Console;

/// <summary>The Runbooks pages in a real browser against <c>medic up</c>: the library, highlighted YAML, a diff between versions, and a run from the generated form on this machine.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class RunbooksTests(ConsoleFixture console) : IDisposable
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("medic-console-rb-");

    private async Task ApplyAsync(string yaml)
    {
        var file = Path.Combine(_work.FullName, Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(file, yaml);
        var apply = await console.Home.RunAsync("runbook", "apply", "-f", file);
        apply.ExitCode.ShouldBe(0, apply.ToString());
    }

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task The_list_shows_the_library_with_risk_version_and_source()
    {
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/runbooks");
        var row = page.Locator("[data-runbook=restart-service]");
        await row.WaitForAsync();
        (await row.Locator("[data-source]").InnerTextAsync()).ShouldBe("library");
        (await row.InnerTextAsync()).ShouldContain("v1");
        (await page.Locator("[data-runbook=free-port]").InnerTextAsync()).ShouldContain("high");

        await ConsoleFixture.WaitInteractiveAsync(page);
        await page.FillAsync("#runbook-filter", "free-port");
        await page.Locator("[data-runbook=restart-service]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
        await page.FillAsync("#runbook-filter", "");
        await page.Locator("[data-runbook=restart-service]").WaitForAsync();
        await ConsoleFixture.ScreenshotAsync(page, "runbooks");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_runbook_page_shows_highlighted_yaml_and_the_diff_between_two_versions()
    {
        var name = Unique("console-diff");
        const string steps = """
            parameters:
              unit: {type: string, pattern: '[a-z.-]+', default: nginx}
            targets: incident
            steps:
              - name: status
                run: [systemctl, status, '${{ params.unit }}']  # read only
            """;
        await ApplyAsync($"name: {name}\nversion: 1\ndescription: first words\nrisk: low\n{steps}\n");
        await ApplyAsync($"name: {name}\nversion: 2\ndescription: second words\nrisk: low\n{steps}\n");

        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/runbooks/" + name);
        await ConsoleFixture.WaitInteractiveAsync(page);
        var yaml = page.Locator("pre[data-yaml]");
        (await yaml.InnerTextAsync()).ShouldContain("description: second words");
        (await yaml.Locator("span.y-key").AllInnerTextsAsync()).ShouldContain("description");
        (await yaml.Locator("span.y-ref").AllInnerTextsAsync()).ShouldContain("${{ params.unit }}");
        (await yaml.Locator("span.y-comment").AllInnerTextsAsync()).ShouldContain("# read only");
        (await page.Locator("[data-source]").InnerTextAsync()).ShouldBe("custom");

        (await page.Locator("#versions").InnerTextAsync()).ShouldBe("Versions (2)");
        var diff = page.Locator("[data-diff]");
        await diff.WaitForAsync();
        (await diff.Locator(".d-del").AllInnerTextsAsync()).Select(l => l.Trim()).ShouldContain("-description: first words");
        (await diff.Locator(".d-add").AllInnerTextsAsync()).Select(l => l.Trim()).ShouldContain("+description: second words");
        await ConsoleFixture.ScreenshotAsync(page, "runbook");

        // The older version is there to read too.
        await page.SelectOptionAsync("[data-version-select]", "1");
        await Assertions.Expect(yaml).ToContainTextAsync("description: first words");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_generated_form_dry_runs_then_runs_a_diagnostic_on_this_machine_with_its_output_live()
    {
        var host = Environment.MachineName;
        await console.Home.WaitForStatusAsync(host, "online", TimeSpan.FromSeconds(60));
        var name = Unique("console-diag");
        var marker = Unique("hello");
        await ApplyAsync($$"""
            name: {{name}}
            version: 1
            description: Say hello a few times, slowly, and name the kernel.
            risk: low
            parameters:
              greeting: {type: string, pattern: '[a-z0-9-]+', required: true}
              count: {type: int, min: 1, max: 5, default: 3}
              mode: {type: enum, values: [short, long], default: short}
            targets: incident
            steps:
              - name: greet
                shell: for i in $(seq 1 "$MEDIC_PARAM_COUNT"); do echo "$MEDIC_PARAM_GREETING $MEDIC_PARAM_MODE $i"; sleep 1; done
              - name: kernel
                run: [uname, -s]
            """);

        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/runbooks/" + name);
        await ConsoleFixture.WaitInteractiveAsync(page);
        (await page.Locator("input[data-param=count]").GetAttributeAsync("max")).ShouldBe("5");
        await page.FillAsync("input[data-param=greeting]", marker);
        await page.SelectOptionAsync("select[data-param=mode]", "long");
        await page.FillAsync("input[data-target=names]", host);
        await page.PressAsync("input[data-target=names]", "Tab");
        await page.Locator($"[data-preview] [data-server='{host}']").WaitForAsync();

        // Dry run first (the default): the exact commands, nothing runs.
        await page.ClickAsync("[data-run-form] button[data-run]");
        var plan = page.Locator("[data-plan]");
        await plan.WaitForAsync();
        (await plan.Locator($"[data-planned='{host}']").CountAsync()).ShouldBe(2);
        (await plan.InnerTextAsync()).ShouldContain("MEDIC_PARAM_GREETING=" + marker);
        (await plan.InnerTextAsync()).ShouldContain("uname -s");

        await page.UncheckAsync("[data-dry-run]");
        await page.ClickAsync("[data-run-form] button[data-run]");
        await page.WaitForURLAsync(new Regex("/runbooks/runs/"));
        await ConsoleFixture.WaitInteractiveAsync(page);
        var node = page.Locator($"[data-node='{host}']");
        // The first lines show while the step still runs: the output is live, not read at the end.
        await Assertions.Expect(node.Locator("[data-live-output]")).ToContainTextAsync($"{marker} long 1", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("[data-run-status]")).ToHaveAttributeAsync("data-run-status", "succeeded", new() { Timeout = 60_000 });
        (await node.Locator("[data-step='1'] [data-stdout]").InnerTextAsync()).ShouldBe($"{marker} long 1\n{marker} long 2\n{marker} long 3\n");
        (await node.Locator("[data-step='2'] [data-stdout]").InnerTextAsync()).Trim().ShouldBe("Linux");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_bad_value_shows_the_apis_answer_for_that_parameter()
    {
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/runbooks/delete-old-files");
        await ConsoleFixture.WaitInteractiveAsync(page);
        await page.FillAsync("input[data-target=names]", Environment.MachineName);
        await page.PressAsync("input[data-target=names]", "Tab");
        // The browser checks the pattern too; remove it to see that the server refuses on its own.
        await page.EvalOnSelectorAllAsync("[data-run-form] [pattern], [data-run-form] [required]", "els => els.forEach(e => { e.removeAttribute('pattern'); e.removeAttribute('required'); })");
        await page.FillAsync("input[data-param=directory]", "/");
        await page.ClickAsync("[data-run-form] button[data-run]");
        var problem = page.Locator("[data-run-form] [role=alert]");
        await problem.WaitForAsync();
        (await problem.InnerTextAsync()).ShouldContain("params.directory");
        await page.Context.CloseAsync();
    }

    public void Dispose() => _work.Delete(recursive: true);
}
