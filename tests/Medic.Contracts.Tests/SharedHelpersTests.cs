using Medic.Contracts;

namespace Medic.Contracts.Tests;

public sealed class SharedHelpersTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("medic-private-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("short", 10, "short")]
    [InlineData("exactly10!", 10, "exactly10!")]
    [InlineData("one too long", 11, "one too lo…")]
    public void Truncation_keeps_the_limit_and_marks_the_cut(string text, int max, string expected) => Texts.Truncate(text, max).ShouldBe(expected);

    [Fact]
    public void Truncation_never_cuts_a_surrogate_pair_in_two()
    {
        var text = "abc\U0001F525def";

        var cut = Texts.Truncate(text, 5);

        cut.ShouldBe("abc…");
        char.IsHighSurrogate(cut[^2]).ShouldBeFalse();
    }

    [Fact]
    public void A_private_file_is_created_0600_in_a_0700_directory_and_never_overwritten()
    {
        var path = Path.Combine(_dir, "keys", "k.pem");

        PrivateFiles.CreateNew(path, "secret");

        File.ReadAllText(path).ShouldBe("secret");
        File.GetUnixFileMode(path).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(Path.GetDirectoryName(path)!).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        PrivateFiles.IsOpenToOthers(path).ShouldBeFalse();
        Should.Throw<IOException>(() => PrivateFiles.CreateNew(path, "other"));
        File.ReadAllText(path).ShouldBe("secret");
        Directory.GetFiles(Path.GetDirectoryName(path)!).ShouldBe([path]);
    }

    [Fact]
    public void An_atomic_write_replaces_the_whole_file_and_leaves_no_temporary_file()
    {
        var path = Path.Combine(_dir, "state.json");
        File.WriteAllText(path, "old and longer");

        PrivateFiles.WriteAtomic(path, "new");

        File.ReadAllText(path).ShouldBe("new");
        Directory.GetFiles(_dir).ShouldBe([path]);
    }
}
