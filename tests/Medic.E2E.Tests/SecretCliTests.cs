using System.Text.Json;

namespace Medic.E2E.Tests;

/// <summary><c>medic secrets</c> against a real <c>medic up</c>, as an admin runs it.</summary>
public sealed class SecretCliTests : IDisposable
{
    private readonly MedicHome _home = new();

    [Fact]
    public async Task An_admin_sets_a_secret_from_stdin_and_a_file_lists_shows_and_deletes_it_and_the_value_is_never_printed()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        const string Value = "pg-password-from-stdin-7f3a";

        var set = await _home.RunWithInputAsync(Value + "\n", "secrets", "set", "db-password", "--description", "the app's database");
        set.ExitCode.ShouldBe(0, set.ToString());
        set.Stdout.ShouldContain("Saved secret 'db-password' (" + Value.Length + " characters)");

        var file = Path.Combine(_home.Home, "token.txt");
        await File.WriteAllTextAsync(file, "api-token-from-a-file\n");
        var fromFile = await _home.RunAsync("secrets", "set", "api.token", "--from-file", file, "--json");
        fromFile.ExitCode.ShouldBe(0, fromFile.ToString());
        JsonDocument.Parse(fromFile.Stdout).RootElement.GetProperty("length").GetInt32().ShouldBe("api-token-from-a-file\n".Length, "a file is taken exactly as it is");

        var list = await _home.RunAsync("secrets", "list");
        list.ExitCode.ShouldBe(0, list.ToString());
        list.Stdout.ShouldContain("db-password");
        list.Stdout.ShouldContain("api.token");
        var show = await _home.RunAsync("secrets", "show", "db-password", "--json");
        JsonDocument.Parse(show.Stdout).RootElement.GetProperty("description").GetString().ShouldBe("the app's database");

        var empty = await _home.RunWithInputAsync("", "secrets", "set", "db-password");
        empty.ExitCode.ShouldNotBe(0);
        empty.Stderr.ShouldStartWith("error: no value on standard input");
        empty.Stderr.ShouldContain("hint:");
        var badName = await _home.RunWithInputAsync("x-value\n", "secrets", "set", "Bad Name");
        badName.ExitCode.ShouldNotBe(0);
        badName.Stderr.ShouldStartWith("error: ");
        badName.Stderr.ShouldNotContain("   at ", Case.Sensitive, "no stack trace");

        (await _home.RunAsync("secrets", "delete", "db-password")).ExitCode.ShouldBe(0);
        var again = await _home.RunAsync("secrets", "delete", "db-password");
        again.ExitCode.ShouldNotBe(0);
        again.Stderr.ShouldContain("db-password");
        again.Stderr.ShouldContain("hint:");

        foreach (var output in new[] { set, fromFile, list, show, empty, badName, again })
        {
            output.Stdout.ShouldNotContain(Value);
            output.Stdout.ShouldNotContain("api-token-from-a-file");
        }
    }

    public void Dispose() => _home.Dispose();
}
