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
        var resolved = await _home.RunAsync("incidents", "resolve", id, "--comment", "cache warmed");
        resolved.ExitCode.ShouldBe(0, resolved.ToString());
        resolved.Stdout.ShouldContain("resolved");

        var show = await _home.RunAsync("incidents", "show", id);
        show.ExitCode.ShouldBe(0, show.ToString());
        show.Stdout.ShouldContain("resolved by user:admin: cache warmed");
        show.Stdout.ShouldContain("acknowledged");
        show.Stdout.ShouldContain("team=shop");

        var bad = await _home.RunAsync("incidents", "list", "--severity", "huge");
        bad.ExitCode.ShouldNotBe(0);
        bad.Stderr.ShouldContain("severity");
        bad.Stderr.ShouldContain("hint:");
        var missing = await _home.RunAsync("incidents", "show", "inc_nope");
        missing.ExitCode.ShouldNotBe(0);
        missing.Stderr.ShouldContain("inc_nope");
    }

    public void Dispose() => _home.Dispose();
}
