using Medic.Agent.Diagnostics;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Diagnostics;

/// <summary>Each verb runs for real on this machine; where its tool or systemd is missing here, it says so.</summary>
public sealed class HostVerbTests
{
    [Fact]
    public async Task System_summarizes_hostname_uptime_load_and_memory_from_proc()
    {
        var result = await VerbHarness.Run("system");

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(0);
        result.Output.ShouldContain($"hostname: {File.ReadAllText("/proc/sys/kernel/hostname").Trim()}\n");
        result.Output.ShouldMatch(@"uptime:   (\d+ days?, )?\d+:\d\d");
        result.Output.ShouldMatch(@"load:     \d+\.\d\d \d+\.\d\d \d+\.\d\d \(1, 5, 15 min\)");
        result.Output.ShouldMatch(@"memory:   \S+ used of \S+ \(\d+\.\d%\), \S+ available");
    }

    [Fact]
    public async Task Disk_shows_space_and_inodes_per_filesystem()
    {
        var result = await VerbHarness.Run("disk");

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Output.ShouldContain("$ df -P -h\nFilesystem");
        result.Output.ShouldContain("$ df -i\nFilesystem");
        result.Output.ShouldContain("IUsed");
        result.Output.ShouldContain("Mounted on");
    }

    [Fact]
    public async Task Largest_dirs_lists_the_biggest_directories_first_and_honours_top()
    {
        using var scratch = new ScratchDirectory();
        foreach (var (name, megabytes) in new[] { ("small", 1), ("big", 3), ("medium", 2) })
        {
            Directory.CreateDirectory(Path.Join(scratch.Path, name));
            File.WriteAllBytes(Path.Join(scratch.Path, name, "data"), new byte[megabytes * 1024 * 1024]);
        }

        var result = await VerbHarness.Run("largest-dirs", ("path", scratch.Path), ("depth", "1"), ("top", "3"));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(0);
        var listed = result.Output.Split('\n').Skip(1).Where(l => l.Length > 0).Select(l => l.Trim().Split("  ", 2)[1]).ToList();
        listed.ShouldBe([scratch.Path, Path.Join(scratch.Path, "big"), Path.Join(scratch.Path, "medium")]);
        result.Output.ShouldContain("6.0M  " + scratch.Path + "\n");
    }

    [Fact]
    public async Task Largest_dirs_says_when_the_path_is_not_a_directory()
    {
        var result = await VerbHarness.Run("largest-dirs", ("path", "/nonexistent/medic"));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(1);
        result.Output.ShouldBe("'/nonexistent/medic' is not a directory on this machine.\n");
    }

    [Fact]
    public async Task Cancelling_a_verb_stops_its_tool_and_says_so()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();

        var outcome = await DiagnosticVerbs.RunAsync("largest-dirs", new Dictionary<string, string> { ["path"] = "/", ["depth"] = "3" }, (_, _) => ValueTask.CompletedTask, cancel.Token);

        outcome.Status.ShouldBe(TaskStatus.Failed);
        outcome.Reason!.ShouldStartWith("cancelled before it finished");
    }

    [Fact]
    public async Task Top_cpu_shows_the_ps_header_and_at_most_count_processes()
    {
        var result = await VerbHarness.Run("top-cpu", ("count", "3"));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(0);
        var lines = result.Output.TrimEnd('\n').Split('\n');
        lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["PID", "USER", "%CPU", "%MEM", "RSS", "ELAPSED", "COMMAND"]);
        lines.Length.ShouldBe(4);
    }

    [Fact]
    public async Task Top_mem_lists_processes_by_resident_memory_descending()
    {
        var result = await VerbHarness.Run("top-mem", ("count", "5"));

        result.Outcome.ExitCode.ShouldBe(0);
        var rss = result.Output.TrimEnd('\n').Split('\n').Skip(1)
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[4]))
            .ToList();
        rss.Count.ShouldBe(5);
        rss.ShouldBe(rss.OrderByDescending(r => r).ToList());
    }

    [Fact]
    public async Task Updates_lists_pending_packages_or_says_which_tool_is_missing()
    {
        var result = await VerbHarness.Run("updates");

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        if (File.Exists("/usr/bin/apt"))
        {
            result.Output.ShouldStartWith("$ apt list --upgradable");
            result.Output.ShouldContain("Listing...");
            result.Outcome.ExitCode.ShouldBe(0);
        }
        else if (File.Exists("/usr/bin/dnf"))
        {
            result.Output.ShouldStartWith("apt is not installed; using dnf.");
        }
        else
        {
            result.Output.ShouldContain("neither apt (Debian, Ubuntu) nor dnf (Fedora, RHEL) is installed");
        }
    }

    [Fact]
    public void Sizes_read_as_a_human_would_write_them()
    {
        HostVerbs.HumanSize(512).ShouldBe("512B");
        HostVerbs.HumanSize(1536).ShouldBe("1.5K");
        HostVerbs.HumanSize(3L * 1024 * 1024 * 1024).ShouldBe("3.0G");
    }
}
