using System.Net.Http.Json;
using System.Text.Json;

namespace Medic.E2E.Tests;

/// <summary>The first-run experience: <c>medic up</c> and the CLI against it, as real processes.</summary>
public sealed class UpTests : IDisposable
{
    private readonly MedicHome _home = new();

    [Fact]
    public async Task Up_serves_healthz_within_15_seconds_prints_how_to_log_in_and_logs_the_cli_in()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");

        server.StartedIn.ShouldBeLessThan(TimeSpan.FromSeconds(15));
        using var http = new HttpClient();
        var health = await http.GetFromJsonAsync<JsonElement>(server.Url + "/healthz");
        health.GetProperty("status").GetString().ShouldBe("ok");

        server.Stdout.ShouldContain(server.Url + "/login");
        RunningServer.FirstPassword().Match(server.Stdout).Success.ShouldBeTrue(server.Stdout);
        Directory.Exists(Path.Combine(_home.Home, ".medic")).ShouldBeTrue();
        File.GetUnixFileMode(Path.Combine(_home.Home, ".medic", "master.key")).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(Path.Combine(_home.Home, ".config", "medic", "config.json")).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var whoami = await _home.RunAsync("whoami", "--json");
        whoami.ExitCode.ShouldBe(0, whoami.ToString());
        var me = JsonDocument.Parse(whoami.Stdout).RootElement;
        me.GetProperty("username").GetString().ShouldBe("admin");
        me.GetProperty("tenant_slug").GetString().ShouldBe("default");
        me.GetProperty("superadmin").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public async Task Login_whoami_tokens_create_and_audit_verify_work_against_up()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        var password = RunningServer.FirstPassword().Match(server.Stdout).Groups[1].Value;

        var login = await _home.RunWithInputAsync(password + "\n", "login", "--server", server.Url, "--user", "admin", "--password-stdin", "--name", "again");
        login.ExitCode.ShouldBe(0, login.ToString());
        login.Stdout.ShouldContain("Logged in to " + server.Url + " as admin");

        var whoami = await _home.RunAsync("whoami");
        whoami.ExitCode.ShouldBe(0, whoami.ToString());
        whoami.Stdout.ShouldContain("context again");

        var created = await _home.RunAsync("tokens", "create", "--name", "ci deploy", "--role", "operator", "--expires", "7d", "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var secret = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("secret").GetString()!;
        secret.ShouldStartWith("mdk_");

        // The new token works on its own, with the role it was given.
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", secret);
        var me = await http.GetFromJsonAsync<JsonElement>(server.Url + "/api/v1/whoami");
        me.GetProperty("role").GetString().ShouldBe("operator");

        var verify = await _home.RunAsync("audit", "verify");
        verify.ExitCode.ShouldBe(0, verify.ToString());
        verify.Stdout.ShouldContain("OK");

        var audit = await _home.RunAsync("audit", "list", "--action", "token.create", "--json");
        audit.ExitCode.ShouldBe(0, audit.ToString());
        var names = JsonDocument.Parse(audit.Stdout).RootElement.GetProperty("items").EnumerateArray()
            .Select(e => e.GetProperty("details").GetProperty("name").GetString()).ToList();
        names.ShouldContain("ci deploy");
        audit.Stdout.ShouldNotContain(secret);
    }

    [Fact]
    public async Task A_second_up_reuses_the_data_prints_no_password_and_keeps_the_cli_logged_in()
    {
        await using (var first = await RunningServer.StartAsync(_home, "up"))
        {
            (await _home.RunAsync("users", "add", "carol", "--role", "approver")).ExitCode.ShouldBe(0);
            (await first.StopAsync(TimeSpan.FromSeconds(15))).ShouldBe(0);
        }

        await using var second = await RunningServer.StartAsync(_home, "up");
        RunningServer.FirstPassword().Match(second.Stdout).Success.ShouldBeFalse(second.Stdout);
        var users = await _home.RunAsync("users", "list");
        users.ExitCode.ShouldBe(0, users.ToString());
        users.Stdout.ShouldContain("carol");
    }

    [Fact]
    public async Task Up_stops_cleanly_on_SIGTERM()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");

        var exit = await server.StopAsync(TimeSpan.FromSeconds(15));

        exit.ShouldBe(0, server.Stdout + server.Stderr);
        server.Stdout.ShouldContain("Medic stopped.");
        server.Stderr.ShouldNotContain("Exception");
    }

    [Fact]
    public async Task Admin_password_from_the_environment_is_used_on_first_run()
    {
        _home.Environment["MEDIC_ADMIN_PASSWORD"] = "correct horse battery staple";
        await using var server = await RunningServer.StartAsync(_home, "up");

        server.Stdout.ShouldContain("MEDIC_ADMIN_PASSWORD");
        var login = await _home.RunWithInputAsync("correct horse battery staple\n", "login", "--server", server.Url, "--password-stdin");
        login.ExitCode.ShouldBe(0, login.ToString());
    }

    [Fact]
    public async Task An_export_verifies_offline_and_an_edited_export_does_not()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        (await _home.RunAsync("tokens", "create", "--name", "exported")).ExitCode.ShouldBe(0);
        var file = Path.Combine(_home.Home, "audit.jsonl");

        var export = await _home.RunAsync("audit", "export", "--output", file);
        export.ExitCode.ShouldBe(0, export.ToString());
        var lines = await File.ReadAllLinesAsync(file);
        lines.Length.ShouldBeGreaterThanOrEqualTo(4);

        var clean = await _home.RunAsync("audit", "verify", "--file", file);
        clean.ExitCode.ShouldBe(0, clean.ToString());

        lines[1] = lines[1].Replace("\"system\"", "\"user:mallory\"", StringComparison.Ordinal);
        await File.WriteAllLinesAsync(file, lines);
        var tampered = await _home.RunAsync("audit", "verify", "--file", file);
        tampered.ExitCode.ShouldBe(1, tampered.ToString());
        tampered.Stdout.ShouldContain("entry 2");
    }

    public void Dispose() => _home.Dispose();
}
