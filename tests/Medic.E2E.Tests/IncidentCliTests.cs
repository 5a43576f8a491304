using System.Text.Json;

namespace Medic.E2E.Tests;

/// <summary>The incidents commands against a real <c>medic up</c>, as a person at a terminal uses them.</summary>
public sealed class IncidentCliTests : IDisposable
{
    private readonly MedicHome _home = new();

    [Fact]
    public async Task An_incident_opened_from_the_cli_is_listed_shown_and_resolved()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");

        var created = await _home.RunAsync("incidents", "create", "--title", "Checkout is slow", "--severity", "critical", "--label", "team=shop", "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var id = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("id").GetString()!;

        var list = await _home.RunAsync("incidents", "list", "--status", "active");
        list.ExitCode.ShouldBe(0, list.ToString());
        list.Stdout.ShouldContain(id);
        list.Stdout.ShouldContain("Checkout is slow");

        (await _home.RunAsync("incidents", "ack", id, "--comment", "on it")).ExitCode.ShouldBe(0);
        (await _home.RunAsync("incidents", "comment", id, "payments team says the cache was flushed")).ExitCode.ShouldBe(0);
        var resolved = await _home.RunAsync("incidents", "resolve", id, "--comment", "cache warmed");
        resolved.ExitCode.ShouldBe(0, resolved.ToString());
        resolved.Stdout.ShouldContain("resolved");

        var show = await _home.RunAsync("incidents", "show", id);
        show.ExitCode.ShouldBe(0, show.ToString());
        show.Stdout.ShouldContain("resolved by user:admin: cache warmed");
        show.Stdout.ShouldContain("acknowledged");
        show.Stdout.ShouldContain("team=shop");
        show.Stdout.ShouldContain("payments team says the cache was flushed");

        var bad = await _home.RunAsync("incidents", "list", "--severity", "huge");
        bad.ExitCode.ShouldNotBe(0);
        bad.Stderr.ShouldContain("severity");
        bad.Stderr.ShouldContain("hint:");
        var missing = await _home.RunAsync("incidents", "show", "inc_nope");
        missing.ExitCode.ShouldNotBe(0);
        missing.Stderr.ShouldContain("inc_nope");
    }

    [Fact]
    public async Task An_incident_report_prints_as_markdown_as_json_or_to_a_file()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        var created = await _home.RunAsync("incidents", "create", "--title", "Checkout is slow", "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var id = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("id").GetString()!;
        (await _home.RunAsync("incidents", "ack", id)).ExitCode.ShouldBe(0);
        (await _home.RunAsync("incidents", "resolve", id, "--comment", "cache warmed")).ExitCode.ShouldBe(0);

        var markdown = await _home.RunAsync("incidents", "report", id);
        markdown.ExitCode.ShouldBe(0, markdown.ToString());
        markdown.Stdout.ShouldStartWith("# Incident report: Checkout is slow\n");
        markdown.Stdout.ShouldContain("**Resolved by a person.** resolved by user:admin: cache warmed");
        markdown.Stdout.ShouldContain("| Time to acknowledge |");

        var json = await _home.RunAsync("incidents", "report", id, "--json");
        json.ExitCode.ShouldBe(0, json.ToString());
        var report = JsonDocument.Parse(json.Stdout).RootElement;
        report.GetProperty("outcome").GetProperty("status").GetString().ShouldBe("resolved");
        report.GetProperty("outcome").GetProperty("final").GetBoolean().ShouldBeTrue();
        report.GetProperty("durations").GetProperty("time_to_resolve_seconds").GetDouble().ShouldBeGreaterThanOrEqualTo(0);
        report.GetProperty("audit").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ShouldBe(["incident.create", "incident.acknowledge", "incident.resolve"]);

        var file = Path.Combine(_home.Home, "report.md");
        var written = await _home.RunAsync("incidents", "report", id, "--output", file);
        written.ExitCode.ShouldBe(0, written.ToString());
        written.Stdout.ShouldBeEmpty();
        written.Stderr.ShouldContain(file);
        (await File.ReadAllTextAsync(file)).ShouldStartWith("# Incident report: Checkout is slow\n");

        var nowhere = await _home.RunAsync("incidents", "report", id, "--output", Path.Combine(_home.Home, "no-such-dir", "report.md"));
        nowhere.ExitCode.ShouldNotBe(0);
        nowhere.Stderr.ShouldContain("cannot write");
        nowhere.Stderr.ShouldContain("hint:");
        var missing = await _home.RunAsync("incidents", "report", "inc_nope");
        missing.ExitCode.ShouldNotBe(0);
        missing.Stderr.ShouldContain("inc_nope");
        missing.Stderr.ShouldContain("hint:");
    }

    [Fact]
    public async Task A_failing_check_added_from_the_cli_opens_an_incident()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");

        var added = await _home.RunAsync("checks", "add", "self", "--http", server.Url.TrimEnd('/') + "/healthz", "--interval", "1d", "--failures", "1");
        added.ExitCode.ShouldBe(0, added.ToString());
        var run = await _home.RunAsync("checks", "run", "self");
        run.ExitCode.ShouldBe(0, run.ToString());
        run.Stdout.ShouldContain("pass");

        var closed = await _home.RunAsync("checks", "add", "closed-port", "--tcp", "127.0.0.1:" + MedicHome.FreePort(), "--interval", "1d", "--failures", "1", "--severity", "critical");
        closed.ExitCode.ShouldBe(0, closed.ToString());
        var failed = await _home.RunAsync("checks", "run", "closed-port");
        failed.ExitCode.ShouldBe(1, failed.ToString());
        failed.Stdout.ShouldContain("FAIL");

        var incidents = await _home.RunAsync("incidents", "list", "--source", "check", "--json");
        var items = JsonDocument.Parse(incidents.Stdout).RootElement.GetProperty("items");
        items.GetArrayLength().ShouldBe(1, incidents.ToString());
        items[0].GetProperty("title").GetString().ShouldBe("Check closed-port is failing");

        var both = await _home.RunAsync("checks", "add", "x", "--http", "http://a/", "--tcp", "a:1");
        both.ExitCode.ShouldBe(2);
        both.Stderr.ShouldContain("exactly one");

        // The server's validation comes back in the flags' names, not the API's fields.
        var slow = await _home.RunAsync("checks", "add", "slow", "--http", "http://127.0.0.1:1/", "--interval", "10s", "--timeout", "30");
        slow.ExitCode.ShouldBe(2, slow.ToString());
        slow.Stderr.ShouldContain("--timeout must be shorter than the interval");
        slow.Stderr.ShouldNotContain("timeout_seconds");
        var nowhere = await _home.RunAsync("exec", "echo hi");
        nowhere.ExitCode.ShouldBe(2, nowhere.ToString());
        nowhere.Stderr.ShouldContain("no servers chosen: name them with --server, --tag, --env, --group or --all");
        nowhere.Stderr.ShouldNotContain("selector");
        var unknownSource = await _home.RunAsync("incidents", "list", "--source", "webhook");
        unknownSource.ExitCode.ShouldBe(2, unknownSource.ToString());
        unknownSource.Stderr.ShouldContain("--source 'webhook' is neither a built-in source");
    }

    [Fact]
    public async Task Incidents_watch_prints_each_change_as_it_happens()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var watch = new System.Diagnostics.Process { StartInfo = _home.StartInfo("incidents", "watch", "--json") };
        watch.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        watch.Start();
        watch.BeginOutputReadLine();
        try
        {
            // The watcher subscribes once connected; keep opening incidents until one shows up, then resolve it.
            string? id = null;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (id is null && DateTime.UtcNow < deadline)
            {
                var created = await _home.RunAsync("incidents", "create", "--title", "watched", "--json");
                created.ExitCode.ShouldBe(0, created.ToString());
                await Task.Delay(300);
                id = lines.Select(l => JsonDocument.Parse(l).RootElement).Where(m => m.GetProperty("action").GetString() == "created")
                    .Select(m => m.GetProperty("incident").GetProperty("id").GetString()).FirstOrDefault();
            }

            id.ShouldNotBeNull("no change reached 'medic incidents watch'");
            (await _home.RunAsync("incidents", "resolve", id!)).ExitCode.ShouldBe(0);
            deadline = DateTime.UtcNow.AddSeconds(10);
            while (!lines.Any(l => l.Contains("\"resolved\"", StringComparison.Ordinal) && l.Contains(id!, StringComparison.Ordinal)) && DateTime.UtcNow < deadline) await Task.Delay(100);
            lines.ShouldContain(l => l.Contains("\"resolved\"", StringComparison.Ordinal) && l.Contains(id!, StringComparison.Ordinal));
        }
        finally
        {
            watch.Kill(entireProcessTree: true);
            await watch.WaitForExitAsync();
        }
    }

    public void Dispose() => _home.Dispose();
}
