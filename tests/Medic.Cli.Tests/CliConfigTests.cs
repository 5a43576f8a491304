namespace Medic.Cli.Tests;

public sealed class CliConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("medic-cli-config-").FullName;

    private string PathIn(params string[] parts) => Path.Combine([_dir, .. parts]);

    [Fact]
    public void Saving_creates_a_file_only_its_owner_can_read_in_a_private_directory()
    {
        var path = PathIn("nested", "medic", "config.json");
        var config = new CliConfig { CurrentContext = "prod" };
        config.Contexts["prod"] = new CliContext { Server = "https://medic.example.com", Token = "mdk_secret", User = "alice", Tenant = "acme" };

        config.Save(path);

        File.GetUnixFileMode(path).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(Path.GetDirectoryName(path)!).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var loaded = CliConfig.Load(path);
        loaded.CurrentContext.ShouldBe("prod");
        loaded.Contexts["prod"].Token.ShouldBe("mdk_secret");
        loaded.Contexts["prod"].Tenant.ShouldBe("acme");
    }

    [Fact]
    public void Saving_over_a_world_readable_file_leaves_it_private()
    {
        var path = PathIn("config.json");
        File.WriteAllText(path, "{}");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        new CliConfig { CurrentContext = "x" }.Save(path);

        File.GetUnixFileMode(path).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.GetFiles(_dir).ShouldBe([path], "no temp file is left behind");
    }

    [Fact]
    public void The_file_uses_snake_case_keys_as_documented()
    {
        var path = PathIn("config.json");
        var config = new CliConfig { CurrentContext = "local" };
        config.Contexts["local"] = new CliContext { Server = "http://127.0.0.1:7431", Token = "mdk_t", TokenId = "tok_1" };

        config.Save(path);

        var text = File.ReadAllText(path);
        text.ShouldContain("\"current_context\": \"local\"");
        text.ShouldContain("\"token_id\": \"tok_1\"");
    }

    [Fact]
    public void A_missing_file_is_an_empty_config()
    {
        var config = CliConfig.Load(PathIn("absent.json"));

        config.CurrentContext.ShouldBeNull();
        config.Contexts.ShouldBeEmpty();
    }

    [Fact]
    public void A_corrupt_file_is_a_clear_error_with_a_remedy()
    {
        var path = PathIn("config.json");
        File.WriteAllText(path, "{ not json");

        var ex = Should.Throw<CliException>(() => CliConfig.Load(path));

        ex.Message.ShouldContain(path);
        ex.Remedy.ShouldContain("medic login");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
