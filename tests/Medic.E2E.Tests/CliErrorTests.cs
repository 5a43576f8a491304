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

    /// <summary>How the CLI answers a command line that does not parse: each case, the words a user reads.</summary>
    [Theory]
    [InlineData("unknown command 'serverz'; did you mean 'servers'?", "medic servers --help", "serverz", "list")]
    [InlineData("unknown command 'incidnets'; did you mean 'incidents'?", "medic incidents --help", "incidnets")]
    [InlineData("unknown command 'lst'; did you mean 'list'?", "medic incidents list --help", "incidents", "lst")]
    [InlineData("unknown command 'frobnicate'", "medic --help", "frobnicate")]
    [InlineData("unknown option '--jsn' for 'medic incidents list'; did you mean '--json'?", "medic incidents list --help", "incidents", "list", "--jsn")]
    [InlineData("'abc' is not a whole number for --limit", "medic incidents list --help", "incidents", "list", "--limit", "abc")]
    [InlineData("'done' is not a valid --status; use one of:", "medic incidents list --help", "incidents", "list", "--status", "done")]
    [InlineData("'loud' is not a valid --severity; use one of: critical, warning, info", "medic incidents list --help", "incidents", "list", "--severity", "loud")]
    [InlineData("'medic servers' needs a command: list, show", "medic servers --help", "servers")]
    public async Task A_command_line_that_does_not_parse_says_what_to_type(string cause, string remedy, params string[] args)
    {
        var run = await _home.RunAsync(args);

        run.ExitCode.ShouldBe(2, run.ToString());
        ShouldBeTwoLineError(run, cause);
        run.Stderr.ShouldContain(remedy);
        run.Stderr.ShouldNotContain("System.");
        run.Stderr.ShouldNotContain("Required command was not provided");
    }

    [Fact]
    public async Task Medic_version_prints_the_version()
    {
        var run = await _home.RunAsync("version");
        run.ExitCode.ShouldBe(0, run.ToString());
        run.Stdout.ShouldMatch(@"^medic \d+\.\d+\.\d+\s*$");

        var json = await _home.RunAsync("version", "--json");
        System.Text.Json.JsonDocument.Parse(json.Stdout).RootElement.GetProperty("version").GetString().ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Doctor_with_the_server_down_says_how_to_start_it_not_to_run_doctor()
    {
        var port = MedicHome.FreePort();
        Directory.CreateDirectory(Path.Combine(_home.Home, ".config", "medic"));
        var config = Path.Combine(_home.Home, ".config", "medic", "config.json");
        await File.WriteAllTextAsync(config, "{\"current_context\":\"gone\",\"contexts\":{\"gone\":{\"server\":\"http://127.0.0.1:" + port + "\",\"token\":\"mdk_x\"}}}");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var run = await _home.RunAsync("doctor");

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Stdout.ShouldContain("medic up");
        run.Stdout.ShouldNotContain("medic doctor");
    }

    [Fact]
    public async Task Watch_with_an_empty_file_says_to_add_a_monitor()
    {
        var file = Path.Combine(_home.Home, "watch.yaml");
        await File.WriteAllTextAsync(file, "");

        var run = await _home.RunAsync("watch", "-f", file);

        run.ExitCode.ShouldBe(2, run.ToString());
        ShouldBeTwoLineError(run, "no monitors");
        run.Stderr.ShouldContain("hint: add at least one monitor under 'monitors:'; the format is in docs/watch.md");
    }

    public void Dispose() => _home.Dispose();
}
