using Medic.Agent.Diagnostics;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Diagnostics;

/// <summary>disk-usage and inode-usage on real files with set ages, and on a deleted file a child process holds open.</summary>
public sealed class DiskUsageTests
{
    private static void Fill(string path, int kilobytes, int ageDays = 0)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, new byte[kilobytes * 1024]);
        if (ageDays > 0)
        {
            FindingsHarness.Age(path, ageDays);
        }
    }

    [Fact]
    public async Task A_directory_of_old_backups_is_the_cause_with_its_age_count_and_name_pattern()
    {
        using var scratch = new ScratchDirectory();
        for (var day = 1; day <= 12; day++)
        {
            Fill(Path.Join(scratch.Path, "backups", $"db-2025-03-{day:00}.sql.gz"), 1024, ageDays: 20 + day);
        }
        Fill(Path.Join(scratch.Path, "backups", "db-2025-04-30.sql.gz"), 1024); // last night's: kept
        Fill(Path.Join(scratch.Path, "app", "state.bin"), 512);

        var result = await VerbHarness.Run("disk-usage", ("path", scratch.Path));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        var findings = FindingsHarness.Parse(result.Output);
        findings["cause"].ShouldBe("old_files");
        findings["directory"].ShouldBe(Path.Join(scratch.Path, "backups"));
        findings["files"].ShouldBe("12");
        findings["bytes"].ShouldBe((12L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        findings["age_days"].ShouldBe("7");
        findings["pattern"].ShouldBe("db-2025-03-*.sql.gz");
        findings["mount"].ShouldBe(FilesystemWalk.MountOf(scratch.Path));
        result.Output.ShouldContain("largest directories under " + scratch.Path);
        result.Output.ShouldContain("cause: old files, 12.0M");
    }

    [Fact]
    public async Task The_age_limit_decides_what_is_old()
    {
        using var scratch = new ScratchDirectory();
        for (var i = 0; i < 4; i++)
        {
            Fill(Path.Join(scratch.Path, "dumps", $"dump{i}.tar"), 1024, ageDays: 10);
        }

        var week = FindingsHarness.Parse((await VerbHarness.Run("disk-usage", ("path", scratch.Path))).Output);
        var month = FindingsHarness.Parse((await VerbHarness.Run("disk-usage", ("path", scratch.Path), ("days", "30"))).Output);

        week["cause"].ShouldBe("old_files");
        week["pattern"].ShouldBe("dump*.tar");
        month["cause"].ShouldBe("unknown");
        month.ShouldNotContainKey("directory");
    }

    [Fact]
    public async Task Recent_data_is_no_cause_Medic_can_clean()
    {
        using var scratch = new ScratchDirectory();
        Fill(Path.Join(scratch.Path, "db", "table.dat"), 4096);

        var findings = FindingsHarness.Parse((await VerbHarness.Run("disk-usage", ("path", scratch.Path))).Output);

        findings["cause"].ShouldBe("unknown");
    }

    [Fact]
    public async Task Journal_files_rotated_logs_and_large_logs_are_told_apart()
    {
        using var journal = new ScratchDirectory();
        Fill(Path.Join(journal.Path, "var", "log", "journal", "0123abcd", "system@0001.journal"), 4096);
        Fill(Path.Join(journal.Path, "var", "log", "syslog"), 64);
        using var rotated = new ScratchDirectory();
        foreach (var name in new[] { "access.log.1", "access.log.2.gz", "error.log-20250301", "access.log.old" })
        {
            Fill(Path.Join(rotated.Path, "var", "log", "nginx", name), 1024);
        }
        Fill(Path.Join(rotated.Path, "var", "log", "nginx", "access.log"), 64);
        using var large = new ScratchDirectory();
        Fill(Path.Join(large.Path, "srv", "app", "logs", "app.log"), 8192);
        Fill(Path.Join(large.Path, "srv", "app", "logs", "small.log"), 16);

        var journalFindings = FindingsHarness.Parse((await VerbHarness.Run("disk-usage", ("path", journal.Path))).Output);
        var rotatedFindings = FindingsHarness.Parse((await VerbHarness.Run("disk-usage", ("path", rotated.Path))).Output);
        var largeFindings = FindingsHarness.Parse((await VerbHarness.Run("disk-usage", ("path", large.Path))).Output);

        journalFindings["cause"].ShouldBe("journal");
        journalFindings["directory"].ShouldBe(Path.Join(journal.Path, "var", "log", "journal", "0123abcd"));
        rotatedFindings["cause"].ShouldBe("rotated_logs");
        rotatedFindings["directory"].ShouldBe(Path.Join(rotated.Path, "var", "log", "nginx"));
        rotatedFindings["files"].ShouldBe("4");
        largeFindings["cause"].ShouldBe("large_logs");
        largeFindings["file"].ShouldBe(Path.Join(large.Path, "srv", "app", "logs", "app.log"));
        largeFindings["min_size_mb"].ShouldBe("2");
    }

    [Fact]
    public async Task Space_held_by_a_deleted_file_a_process_keeps_open_names_that_process()
    {
        using var scratch = new ScratchDirectory();
        Fill(Path.Join(scratch.Path, "small"), 16);
        var log = Path.Join(scratch.Path, "huge.log");
        var holder = await FindingsHarness.StartShellAsync("exec 3>\"$1\"; head -c 8388608 /dev/zero >&3; rm \"$1\"; echo ready; exec sleep 60 3>&3", log);
        try
        {
            var usage = await VerbHarness.Run("disk-usage", ("path", scratch.Path));
            var listing = await VerbHarness.Run("deleted-open", ("path", scratch.Path));

            var findings = FindingsHarness.Parse(usage.Output);
            findings["cause"].ShouldBe("deleted_open");
            findings["pid"].ShouldBe(holder.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            findings["process"].ShouldBe("sleep");
            findings["path"].ShouldBe(log);
            findings["fd"].ShouldBe("3");
            findings["bytes"].ShouldBe("8388608");
            listing.Output.ShouldContain($"{holder.Id,7} ");
            listing.Output.ShouldContain("8.0M  " + log);
            FindingsHarness.Parse(listing.Output)["deleted_open_bytes"].ShouldBe("8388608");
        }
        finally
        {
            await FindingsHarness.StopAsync(holder);
        }
        FindingsHarness.Parse((await VerbHarness.Run("deleted-open", ("path", scratch.Path))).Output)["deleted_open_bytes"].ShouldBe("0");
    }

    [Fact]
    public async Task Inode_usage_names_the_directory_full_of_old_small_files()
    {
        using var scratch = new ScratchDirectory();
        var sessions = Path.Join(scratch.Path, "php", "sessions");
        Directory.CreateDirectory(sessions);
        for (var i = 0; i < 2000; i++)
        {
            var file = Path.Join(sessions, $"sess_{i:x8}");
            File.WriteAllText(file, "");
            FindingsHarness.Age(file, 40);
        }
        Fill(Path.Join(scratch.Path, "other", "a"), 1);

        var result = await VerbHarness.Run("inode-usage", ("path", scratch.Path));

        var findings = FindingsHarness.Parse(result.Output);
        findings["cause"].ShouldBe("old_files");
        findings["directory"].ShouldBe(sessions);
        findings["entries"].ShouldBe("2000");
        findings["old_entries"].ShouldBe("2000");
        result.Output.ShouldContain($"      2000 entries    100% old  {sessions}\n");
    }

    [Fact]
    public async Task Inode_usage_says_when_the_many_files_are_new()
    {
        using var scratch = new ScratchDirectory();
        var spool = Path.Join(scratch.Path, "spool");
        Directory.CreateDirectory(spool);
        for (var i = 0; i < 500; i++)
        {
            File.WriteAllText(Path.Join(spool, $"msg{i}"), "");
        }

        var findings = FindingsHarness.Parse((await VerbHarness.Run("inode-usage", ("path", scratch.Path))).Output);

        findings["cause"].ShouldBe("recent_files");
        findings["directory"].ShouldBe(spool);
    }

    [Fact]
    public async Task A_path_that_is_not_a_directory_is_said_so()
    {
        var result = await VerbHarness.Run("disk-usage", ("path", "/nonexistent/medic"));

        result.Outcome.ExitCode.ShouldBe(1);
        result.Output.ShouldBe("'/nonexistent/medic' is not a directory on this machine.\n");
    }

    [Theory]
    [InlineData("/var/cache/apt/archives/nginx_1.24_amd64.deb", false, "PackageCache")]
    [InlineData("/var/log/journal/abc/system.journal", false, "Journal")]
    [InlineData("/var/log/syslog.3.gz", false, "RotatedLogs")]
    [InlineData("/var/log/app/app.log", false, "ActiveLogs")]
    [InlineData("/var/lib/postgresql/16/main/base/1/1259", true, "System")]
    [InlineData("/usr/lib/libc.so.6", true, "System")]
    [InlineData("/srv/backups/site.tar.gz", true, "OldFiles")]
    [InlineData("/srv/backups/site.tar.gz", false, "RecentFiles")]
    public void Files_are_classified_by_where_they_live_and_their_name(string path, bool old, string kind) =>
        FilesystemWalk.Classify(path, old).ToString().ShouldBe(kind);

    [Theory]
    [InlineData(new[] { "site-1.tar.gz", "site-2.tar.gz" }, "site-*.tar.gz")]
    [InlineData(new[] { "a.sql", "b.sql" }, "*.sql")]
    [InlineData(new[] { "backup10.gz", "backup20.gz" }, "backup*.gz")]
    [InlineData(new[] { "x", "y" }, "*")]
    [InlineData(new[] { "only.tar" }, "*")]
    [InlineData(new[] { "we ird.tar", "we ird2.tar" }, "*")]
    public void The_name_pattern_is_what_all_names_share(string[] names, string pattern) =>
        DiskUsage.CommonPattern(names).ShouldBe(pattern);
}
