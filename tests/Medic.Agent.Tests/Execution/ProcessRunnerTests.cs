using System.Text;
using Medic.Agent.Execution;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Execution;

/// <summary>Real processes only. Serial, so the allocation measurement sees only its own run.</summary>
[Collection(SerialProcesses.Name)]
public sealed class ProcessRunnerTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private sealed class Captured
    {
        private readonly Lock _lock = new();

        public List<(string Stream, string Data)> Chunks { get; } = [];

        public ValueTask OnOutput(string stream, string data)
        {
            lock (_lock)
            {
                Chunks.Add((stream, data));
            }
            return ValueTask.CompletedTask;
        }

        public string Text(string stream) => string.Concat(Chunks.Where(c => c.Stream == stream).Select(c => c.Data));

        public string All => string.Concat(Chunks.Select(c => c.Data));
    }

    private static async Task<(ProcessOutcome Outcome, Captured Output)> Run(ProcessRequest request, CancellationToken cancellationToken = default)
    {
        var output = new Captured();
        var outcome = await ProcessRunner.RunAsync(request, output.OnOutput, cancellationToken);
        return (outcome, output);
    }

    private static Task<(ProcessOutcome Outcome, Captured Output)> Run(params string[] argv) => Run(new ProcessRequest(argv, Minute));

    private static bool IsAlive(int pid) => ProcessTree.Read(pid) is { State: not 'Z' and not 'X' };

    private static IReadOnlyList<int> LiveMembersOfSession(int session) =>
        ProcessTree.Snapshot().Where(p => p.Session == session && p.State is not 'Z' and not 'X').Select(p => p.Pid).ToList();

    [Fact]
    public async Task The_exit_code_passes_through()
    {
        var (outcome, _) = await Run("sh", "-c", "exit 7");

        outcome.Status.ShouldBe(TaskStatus.Completed);
        outcome.ExitCode.ShouldBe(7);
        outcome.Truncated.ShouldBeFalse();
        outcome.Reason.ShouldBeNull();
    }

    [Fact]
    public async Task A_process_killed_by_a_signal_reports_128_plus_the_signal()
    {
        var (outcome, _) = await Run("sh", "-c", "kill -9 $$");

        outcome.Status.ShouldBe(TaskStatus.Completed);
        outcome.ExitCode.ShouldBe(137);
        outcome.Reason!.ShouldContain("signal 9");
    }

    [Fact]
    public async Task Stdout_and_stderr_arrive_on_their_own_streams()
    {
        var (outcome, output) = await Run("sh", "-c", "echo out; echo err >&2");

        outcome.ExitCode.ShouldBe(0);
        output.Text("stdout").ShouldBe("out\n");
        output.Text("stderr").ShouldBe("err\n");
    }

    [Fact]
    public async Task Large_output_arrives_in_order_in_chunks_of_at_most_16_KiB()
    {
        var (outcome, output) = await Run("seq", "1", "100000");

        outcome.ExitCode.ShouldBe(0);
        output.Chunks.Count.ShouldBeGreaterThan(1);
        output.Chunks.ShouldAllBe(c => c.Data.Length <= 16 * 1024);
        output.Text("stdout").ShouldBe(string.Concat(Enumerable.Range(1, 100000).Select(i => $"{i}\n")));
        outcome.Truncated.ShouldBeFalse();
    }

    [Fact]
    public async Task A_flood_is_cut_at_the_cap_with_one_marker_line_while_memory_stays_bounded()
    {
        long received = 0;
        var markers = 0;
        var last = "";
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        var outcome = await ProcessRunner.RunAsync(
            new ProcessRequest(["sh", "-c", "head -c 50000000 /dev/zero | tr '\\0' a"], Minute),
            (_, data) =>
            {
                received += data.Length;
                markers += data.Contains("[medic: output truncated", StringComparison.Ordinal) ? 1 : 0;
                last = data;
                return ValueTask.CompletedTask;
            },
            CancellationToken.None);

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        outcome.Status.ShouldBe(TaskStatus.Completed);
        outcome.ExitCode.ShouldBe(0); // drained to the end: tr never saw a broken pipe
        outcome.Truncated.ShouldBeTrue();
        markers.ShouldBe(1);
        last.ShouldBe("\n[medic: output truncated at 1048576 bytes]\n");
        received.ShouldBe(1048576 + last.Length);
        // 50 MB decoded would be 100 MB of strings; passing 1 MiB on costs a few.
        allocated.ShouldBeLessThan(16L * 1024 * 1024);
    }

    [Fact]
    public async Task Output_exactly_at_the_cap_is_not_marked_truncated()
    {
        var (outcome, output) = await Run(new ProcessRequest(["head", "-c", "1000", "/dev/zero"], Minute) { OutputCapBytes = 1000 });

        outcome.Truncated.ShouldBeFalse();
        output.All.Length.ShouldBe(1000);
    }

    [Fact]
    public async Task The_cap_counts_stdout_and_stderr_together()
    {
        var (outcome, output) = await Run(new ProcessRequest(["sh", "-c", "printf 12345; printf 67890 >&2; printf abcde"], Minute) { OutputCapBytes = 12 });

        outcome.Truncated.ShouldBeTrue();
        output.All.Replace("\n[medic: output truncated at 12 bytes]\n", "", StringComparison.Ordinal).Length.ShouldBe(12);
    }

    [Fact]
    public async Task A_timeout_kills_the_shell_and_every_child_it_spawned()
    {
        var (outcome, output) = await Run(new ProcessRequest(
            ["sh", "-c", "echo $$; sleep 300 & echo $!; setsid sleep 301 & echo $!; sleep 300"],
            TimeSpan.FromSeconds(1)));

        outcome.Status.ShouldBe(TaskStatus.Timeout);
        outcome.ExitCode.ShouldBeNull();
        outcome.Reason!.ShouldStartWith("timed out after 1 s");
        outcome.DurationMs.ShouldBeLessThan(10_000);
        var pids = output.Text("stdout").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
        pids.Count.ShouldBe(3);
        pids.Where(IsAlive).ShouldBeEmpty();
        LiveMembersOfSession(pids[0]).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_timeout_leaves_no_sleep_of_sh_c_sleep_and_sleep_alive()
    {
        static HashSet<int> Sleeps() => ProcessTree.Snapshot()
            .Where(p => p.Command == "sleep" && p.State is not 'Z' and not 'X')
            .Where(p => CommandLine(p.Pid) == "sleep 300")
            .Select(p => p.Pid)
            .ToHashSet();
        var before = Sleeps();

        var (outcome, _) = await Run(new ProcessRequest(["sh", "-c", "sleep 300 & sleep 300"], TimeSpan.FromSeconds(1)));

        outcome.Status.ShouldBe(TaskStatus.Timeout);
        Sleeps().Except(before).ShouldBeEmpty();
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    [Fact]
    public async Task Cancellation_kills_the_process_and_says_so()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var (outcome, _) = await Run(new ProcessRequest(["sleep", "300"], Minute), cancel.Token);

        outcome.Status.ShouldBe(TaskStatus.Failed);
        outcome.Reason!.ShouldStartWith("cancelled");
        outcome.DurationMs.ShouldBeLessThan(10_000);
    }

    [Fact]
    public async Task A_callback_that_throws_stops_the_process_instead_of_waiting_for_it()
    {
        var outcome = await ProcessRunner.RunAsync(
            new ProcessRequest(["sh", "-c", "echo first; sleep 300"], Minute),
            (_, _) => throw new InvalidOperationException("link closed"),
            CancellationToken.None);

        outcome.Status.ShouldBe(TaskStatus.Failed);
        outcome.Reason.ShouldBe("the output could not be delivered (link closed); the process group was killed");
        outcome.DurationMs.ShouldBeLessThan(10_000);
    }

    [Fact]
    public async Task A_missing_program_fails_with_a_clear_reason()
    {
        var (outcome, _) = await Run("medic-no-such-tool", "--version");

        outcome.Status.ShouldBe(TaskStatus.Failed);
        outcome.ExitCode.ShouldBeNull();
        outcome.Reason.ShouldBe("'medic-no-such-tool' is not installed or not on PATH");
    }

    [Fact]
    public async Task Environment_and_working_directory_are_applied()
    {
        var (outcome, output) = await Run(new ProcessRequest(["sh", "-c", "echo \"$MEDIC_PROBE\"; pwd"], Minute)
        {
            Environment = new Dictionary<string, string> { ["MEDIC_PROBE"] = "hello" },
            WorkingDirectory = "/tmp",
        });

        outcome.ExitCode.ShouldBe(0);
        output.Text("stdout").ShouldBe("hello\n/tmp\n");
    }

    [Fact]
    public async Task An_environment_variable_that_cannot_exist_is_refused_before_starting()
    {
        var (outcome, _) = await Run(new ProcessRequest(["true"], Minute) { Environment = new Dictionary<string, string> { ["A=B"] = "x" } });

        outcome.Status.ShouldBe(TaskStatus.Failed);
        outcome.Reason!.ShouldContain("environment variable");
    }

    [Fact]
    public async Task A_missing_working_directory_fails_before_starting()
    {
        var (outcome, _) = await Run(new ProcessRequest(["true"], Minute) { WorkingDirectory = "/nonexistent/medic" });

        outcome.Status.ShouldBe(TaskStatus.Failed);
        outcome.Reason!.ShouldContain("/nonexistent/medic");
    }

    [Fact]
    public async Task Standard_input_is_closed_so_a_reader_ends_at_once()
    {
        var (outcome, output) = await Run("cat");

        outcome.Status.ShouldBe(TaskStatus.Completed);
        outcome.ExitCode.ShouldBe(0);
        output.All.ShouldBeEmpty();
    }

    [Fact]
    public async Task Arguments_reach_the_program_verbatim_without_a_shell()
    {
        var (outcome, output) = await Run("printf", "%s|", "a b", "$(id)", "; rm -rf /", "*");

        outcome.ExitCode.ShouldBe(0);
        output.All.ShouldBe("a b|$(id)|; rm -rf /|*|");
    }

    [Fact]
    public async Task A_background_child_holding_stdout_open_does_not_hold_the_caller()
    {
        var (outcome, output) = await Run(new ProcessRequest(["sh", "-c", "echo $$; sleep 30 & echo done"], Minute));

        outcome.Status.ShouldBe(TaskStatus.Completed);
        outcome.ExitCode.ShouldBe(0);
        outcome.DurationMs.ShouldBeLessThan(10_000);
        output.All.ShouldEndWith("done\n");
        var session = int.Parse(output.All.Split('\n')[0]);
        foreach (var pid in LiveMembersOfSession(session))
        {
            ProcessTree.Kill(pid);
        }
    }

    [Fact]
    public async Task Invalid_UTF8_is_replaced_not_fatal()
    {
        var (outcome, output) = await Run("printf", "ok\\377\\n");

        outcome.ExitCode.ShouldBe(0);
        output.All.ShouldBe("ok\uFFFD\n");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialProcesses
{
    public const string Name = "serial processes";
}
