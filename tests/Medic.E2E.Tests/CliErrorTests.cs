using System.Net;
using System.Net.Sockets;

namespace Medic.E2E.Tests;

/// <summary>Every CLI failure is one line of cause and one of remedy, with a documented exit code, never a stack trace.</summary>
public sealed class CliErrorTests : IDisposable
{
    private readonly MedicHome _home = new();

    private static void ShouldBeTwoLineError(CliRun run, string cause)
    {
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(2, run.ToString());
        lines[0].ShouldStartWith("error: ");
        lines[0].ShouldContain(cause);
        lines[1].ShouldStartWith("hint: ");
        run.Stderr.ShouldNotContain("   at ");
    }

    [Fact]
    public async Task Commands_without_a_login_say_how_to_log_in()
    {
        var run = await _home.RunAsync("whoami");

        run.ExitCode.ShouldBe(3);
        ShouldBeTwoLineError(run, "not logged in");
        run.Stderr.ShouldContain("medic login");
    }

    [Fact]
    public async Task An_unreachable_server_exits_5_and_points_at_doctor()
    {
        var port = MedicHome.FreePort();
        Directory.CreateDirectory(Path.Combine(_home.Home, ".config", "medic"));
        await File.WriteAllTextAsync(Path.Combine(_home.Home, ".config", "medic", "config.json"),
            "{\"current_context\":\"gone\",\"contexts\":{\"gone\":{\"server\":\"http://127.0.0.1:" + port + "\",\"token\":\"mdk_x\"}}}");

        var run = await _home.RunAsync("tokens", "list");

        run.ExitCode.ShouldBe(5);
        ShouldBeTwoLineError(run, "cannot reach");
    }

    [Fact]
    public async Task A_bad_config_file_names_the_line_and_exits_2()
    {
        var file = Path.Combine(_home.Home, "medic.yaml");
        await File.WriteAllTextAsync(file, "listen: http://127.0.0.1:7431\nno_such_setting: 1\n");

        var run = await _home.RunAsync("server", "--config", file, "--data", Path.Combine(_home.Home, "data"));

        run.ExitCode.ShouldBe(2);
        ShouldBeTwoLineError(run, "line 2");
    }

    [Fact]
    public async Task A_port_in_use_is_reported_in_one_line()
    {
        using var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        var port = ((IPEndPoint)blocker.LocalEndpoint).Port;

        var run = await _home.RunAsync("up", "--listen", $"http://127.0.0.1:{port}");

        run.ExitCode.ShouldBe(2);
        ShouldBeTwoLineError(run, "cannot listen");

        // The failed first start created no admin behind the user's back: the next start still shows the password.
        await using var server = await RunningServer.StartAsync(_home, "up");
        RunningServer.FirstPassword().IsMatch(server.Stdout).ShouldBeTrue(server.Stdout);
    }

    [Fact]
    public async Task An_unknown_option_is_a_usage_error()
    {
        var run = await _home.RunAsync("tokens", "create", "--name", "x", "--role", "wizard");

        run.ExitCode.ShouldBe(2);
        ShouldBeTwoLineError(run, "not a role");
    }

    public void Dispose() => _home.Dispose();
}
