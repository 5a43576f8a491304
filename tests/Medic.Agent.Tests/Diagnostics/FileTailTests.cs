using Medic.Agent.Diagnostics;
using Medic.Agent.Execution;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Diagnostics;

public sealed class FileTailTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    private static string Numbered(int count) => string.Concat(Enumerable.Range(1, count).Select(i => $"line {i}\n"));

    [Fact]
    public async Task It_shows_exactly_the_last_lines_asked_for()
    {
        var path = _scratch.File("app.log", Numbered(5000));

        var result = await VerbHarness.Run("file-tail", ("path", path), ("lines", "3"));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(0);
        result.Output.ShouldBe("line 4998\nline 4999\nline 5000\n");
    }

    [Fact]
    public async Task Lines_spanning_many_read_blocks_come_back_whole_and_in_order()
    {
        var path = _scratch.File("wide.log", string.Concat(Enumerable.Range(1, 1000).Select(i => $"{i}:{new string('x', 500)}\n")));

        var result = await VerbHarness.Run("file-tail", ("path", path), ("lines", "1000"));

        result.Output.ShouldBe(File.ReadAllText(path));
        result.Outcome.Truncated.ShouldBeFalse();
    }

    [Fact]
    public async Task A_last_line_without_a_newline_counts_as_a_line()
    {
        var path = _scratch.File("partial.log", "one\ntwo\nthree");

        (await VerbHarness.Run("file-tail", ("path", path), ("lines", "2"))).Output.ShouldBe("two\nthree\n");
    }

    [Fact]
    public async Task A_short_file_comes_back_whole()
    {
        var path = _scratch.File("short.log", "only\n");

        (await VerbHarness.Run("file-tail", ("path", path))).Output.ShouldBe("only\n");
    }

    [Fact]
    public async Task A_path_outside_the_allowlist_is_refused_without_reading_it()
    {
        var result = await VerbHarness.Run("file-tail", ("path", "/etc/passwd"));

        result.Outcome.Status.ShouldBe(TaskStatus.Refused);
        result.Outcome.Reason!.ShouldContain("'/etc/passwd' is outside the directories file-tail may read (/var/log, /tmp)");
        result.Chunks.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_symlink_in_the_allowlist_pointing_out_of_it_is_refused()
    {
        var link = Path.Join(_scratch.Path, "passwd.log");
        File.CreateSymbolicLink(link, "/etc/passwd");

        VerbHarness.Validate("file-tail", ("path", link)).ShouldBeNull(); // by its spelling it is allowed...
        var result = await VerbHarness.Run("file-tail", ("path", link));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(1);
        result.Output.ShouldBe($"'{link}' resolves to '/etc/passwd', outside the directories file-tail may read (/var/log, /tmp)\n");
        result.Output.ShouldNotContain("root:");
    }

    [Fact]
    public async Task A_symlinked_directory_leading_out_of_the_allowlist_is_refused()
    {
        var link = Path.Join(_scratch.Path, "etc");
        Directory.CreateSymbolicLink(link, "/etc");

        var result = await VerbHarness.Run("file-tail", ("path", Path.Join(link, "passwd")));

        result.Outcome.ExitCode.ShouldBe(1);
        result.Output.ShouldContain("resolves to '/etc/passwd', outside");
    }

    [Fact]
    public async Task A_symlink_that_stays_inside_the_allowlist_is_followed()
    {
        var target = _scratch.File("real.log", "kept\n");
        var link = Path.Join(_scratch.Path, "current.log");
        File.CreateSymbolicLink(link, target);

        (await VerbHarness.Run("file-tail", ("path", link))).Output.ShouldBe("kept\n");
    }

    [Fact]
    public async Task A_fifo_is_refused_without_blocking()
    {
        var fifo = Path.Join(_scratch.Path, "pipe");
        (await ProcessRunner.RunAsync(new ProcessRequest(["mkfifo", fifo], TimeSpan.FromSeconds(10)), (_, _) => ValueTask.CompletedTask, default))
            .ExitCode.ShouldBe(0);

        var result = await VerbHarness.Run("file-tail", ("path", fifo));

        result.Output.ShouldBe($"'{fifo}' is not a regular file\n");
        result.Outcome.DurationMs.ShouldBeLessThan(5000);
    }

    [Fact]
    public async Task A_missing_file_is_reported()
    {
        var path = Path.Join(_scratch.Path, "absent.log");

        var result = await VerbHarness.Run("file-tail", ("path", path));

        result.Outcome.ExitCode.ShouldBe(1);
        result.Output.ShouldBe($"'{path}' does not exist\n");
    }

    [Fact]
    public async Task Reading_stops_at_the_output_cap_and_says_so()
    {
        var path = _scratch.File("huge.log", Numbered(2000));
        var options = DiagnosticOptions.Default with { OutputCapBytes = 1000 };

        var result = await VerbHarness.Run("file-tail", options, ("path", path), ("lines", "1000"));

        result.Outcome.Truncated.ShouldBeTrue();
        result.Output.ShouldStartWith("[medic: only the last 1000 bytes were read]\nline ");
        result.Output.ShouldEndWith("line 2000\n");
        result.Output.Length.ShouldBeLessThan(1100);
    }

    public void Dispose() => _scratch.Dispose();
}
