namespace Medic.E2E.Tests;

public sealed class DoctorTests : IDisposable
{
    private readonly MedicHome _home = new();

    [Fact]
    public async Task Doctor_passes_every_check_against_a_running_up()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");

        var run = await _home.RunAsync("doctor");

        run.ExitCode.ShouldBe(0, run.ToString());
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]).ShouldBe(["config", "server", "version", "database", "migrations", "credential"]);
        lines.ShouldAllBe(l => l.StartsWith("PASS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Doctor_fails_with_a_remedy_when_the_server_is_down()
    {
        await using (var server = await RunningServer.StartAsync(_home, "up"))
        {
            (await server.StopAsync(TimeSpan.FromSeconds(15))).ShouldBe(0);
        }

        var run = await _home.RunAsync("doctor");

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Stdout.ShouldContain("PASS  config");
        run.Stdout.ShouldContain("FAIL  server");
        run.Stdout.ShouldContain("fix:");
    }

    [Fact]
    public async Task Doctor_flags_a_config_file_others_can_read()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        var config = Path.Combine(_home.Home, ".config", "medic", "config.json");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var run = await _home.RunAsync("doctor");

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Stdout.ShouldContain("FAIL  config");
        run.Stdout.ShouldContain("chmod 600");
    }

    public void Dispose() => _home.Dispose();
}
