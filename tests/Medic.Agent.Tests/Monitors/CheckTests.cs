using Medic.Agent.Monitors;
using Medic.Contracts.Agent;

namespace Medic.Agent.Tests.Monitors;

/// <summary>The non-process checks against real files, commands and sockets.</summary>
public sealed class CheckTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("medic-checks-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private MonitorDefinition Log(string path, int count = 2, double window = 60) =>
        new() { Name = "errors", Kind = MonitorKind.Log, Path = path, Pattern = "ERROR", Count = count, WindowSeconds = window };

    [Fact]
    public async Task A_log_monitor_counts_only_new_matching_lines_within_the_window()
    {
        var path = Path.Combine(_dir, "app.log");
        File.WriteAllText(path, "ERROR old one\nERROR old two\n");
        var time = new ManualTime(T0);
        using var check = new LogCheck(Log(path), time);

        (await check.CheckAsync(default)).Verdict.ShouldBe(Verdict.Pass, "lines written before the agent started do not count");
        File.AppendAllText(path, "info fine\nERROR disk on fire\n");
        (await check.CheckAsync(default)).Verdict.ShouldBe(Verdict.Pass);
        File.AppendAllText(path, "ERROR again\n");
        var firing = await check.CheckAsync(default);
        firing.Verdict.ShouldBe(Verdict.Fail);
        firing.Summary.ShouldBe($"2 lines of {path} matched /ERROR/ in the last 1m (threshold 2)");
        firing.Evidence![EvidenceKeys.LastLines].ShouldBe("ERROR disk on fire\nERROR again");

        time.Advance(TimeSpan.FromSeconds(61));
        (await check.CheckAsync(default)).Verdict.ShouldBe(Verdict.Pass, "the matches left the window");
    }

    [Fact]
    public async Task A_rotated_log_is_read_to_its_end_and_the_new_file_from_its_start()
    {
        var path = Path.Combine(_dir, "app.log");
        File.WriteAllText(path, "");
        using var check = new LogCheck(Log(path, count: 3), new ManualTime(T0));
        await check.CheckAsync(default);

        File.AppendAllText(path, "ERROR before rotation\n");
        File.Move(path, path + ".1");
        File.WriteAllText(path, "ERROR in the new file\nERROR second in the new file\n");

        var result = await check.CheckAsync(default);
        result.Verdict.ShouldBe(Verdict.Fail);
        result.Evidence![EvidenceKeys.LastLines].ShouldBe("ERROR before rotation\nERROR in the new file\nERROR second in the new file");
    }

    [Fact]
    public async Task A_log_truncated_in_place_is_read_again_from_the_start()
    {
        var path = Path.Combine(_dir, "app.log");
        File.WriteAllText(path, new string('x', 1000) + "\n");
        using var check = new LogCheck(Log(path, count: 1), new ManualTime(T0));
        await check.CheckAsync(default);

        File.WriteAllText(path, "ERROR after copytruncate\n");

        (await check.CheckAsync(default)).Verdict.ShouldBe(Verdict.Fail);
    }

    [Fact]
    public async Task A_missing_log_file_is_not_a_failure_and_is_read_once_it_appears()
    {
        var path = Path.Combine(_dir, "later.log");
        using var check = new LogCheck(Log(path, count: 1), new ManualTime(T0));

        var first = await check.CheckAsync(default);
        first.Verdict.ShouldBe(Verdict.Pass);
        first.Evidence!["note"].ShouldContain("does not exist yet");

        File.WriteAllText(path, "");
        await check.CheckAsync(default);
        File.AppendAllText(path, "ERROR now\n");
        (await check.CheckAsync(default)).Verdict.ShouldBe(Verdict.Fail);
    }

    [Theory]
    [InlineData("echo 'OK - 2 users'; exit 0", "Pass", null, "OK - 2 users")]
    [InlineData("echo 'WARNING - 6 users'; exit 1", "Fail", MonitorSeverity.Warning, "WARNING - 6 users")]
    [InlineData("echo 'CRITICAL - 11 users'; exit 2", "Fail", MonitorSeverity.Critical, "CRITICAL - 11 users")]
    [InlineData("echo 'no idea'; exit 3", "Fail", null, "UNKNOWN (exit code 3): no idea")]
    public async Task A_command_monitor_reads_nagios_exit_codes(string script, string verdict, MonitorSeverity? severity, string summary)
    {
        var check = new CommandCheck(new MonitorDefinition { Name = "users", Kind = MonitorKind.Command, Command = ["sh", "-c", script] });

        var result = await check.CheckAsync(default);

        result.Verdict.ToString().ShouldBe(verdict);
        result.Severity.ShouldBe(severity);
        result.Summary.ShouldBe(summary);
    }

    [Fact]
    public async Task A_command_that_is_not_installed_is_unknown_and_fails()
    {
        var check = new CommandCheck(new MonitorDefinition { Name = "x", Kind = MonitorKind.Command, Command = ["/nonexistent/check_thing"] });

        var result = await check.CheckAsync(default);

        result.Verdict.ShouldBe(Verdict.Fail);
        result.Summary.ShouldBe("UNKNOWN: '/nonexistent/check_thing' is not installed or not on PATH");
    }

    [Fact]
    public async Task A_backup_directory_is_as_fresh_as_its_newest_file()
    {
        var backups = Directory.CreateDirectory(Path.Combine(_dir, "backups")).FullName;
        var old = Path.Combine(backups, "db-1.sql.gz");
        var newest = Path.Combine(backups, "db-2.sql.gz");
        File.WriteAllText(old, "");
        File.WriteAllText(newest, "");
        File.SetLastWriteTimeUtc(old, T0.UtcDateTime.AddDays(-3));
        File.SetLastWriteTimeUtc(newest, T0.UtcDateTime.AddHours(-2));
        var definition = new MonitorDefinition { Name = "backup", Kind = MonitorKind.FileAge, Path = backups, MaxAgeSeconds = 26 * 3600 };
        var time = new ManualTime(T0);

        var fresh = await new FileAgeCheck(definition, time).CheckAsync(default);
        fresh.Verdict.ShouldBe(Verdict.Pass);
        fresh.Summary.ShouldBe($"{newest} was last written 2h ago (limit 26h)");

        time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        (await new FileAgeCheck(definition, time).CheckAsync(default)).Verdict.ShouldBe(Verdict.Fail);
        (await new FileAgeCheck(definition with { Path = Path.Combine(_dir, "none") }, time).CheckAsync(default)).Summary.ShouldEndWith("does not exist");
    }

    [Fact]
    public async Task An_http_monitor_checks_status_and_body_against_a_real_server()
    {
        var port = TestService.FreePort();
        var ok = new HttpCheck(new MonitorDefinition { Name = "api", Kind = MonitorKind.Http, Url = $"http://127.0.0.1:{port}/", BodyRegex = "^ok$", TimeoutSeconds = 1 });
        var wrongBody = new HttpCheck(new MonitorDefinition { Name = "api", Kind = MonitorKind.Http, Url = $"http://127.0.0.1:{port}/", BodyRegex = "healthy", TimeoutSeconds = 1 });

        var down = await ok.CheckAsync(default);
        down.Verdict.ShouldBe(Verdict.Fail);
        down.Summary.ShouldStartWith($"GET http://127.0.0.1:{port}/ failed: connection refused");

        using var service = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(TestService.Dotnet) { ArgumentList = { TestService.Dll, "--port", port.ToString() }, RedirectStandardOutput = true })!;
        try
        {
            await TestService.WaitUntilAsync(() => TestService.AnswersAsync(port), TimeSpan.FromSeconds(20), "the service did not answer");
            (await ok.CheckAsync(default)).Summary.ShouldStartWith($"GET http://127.0.0.1:{port}/: HTTP 200 in ");
            (await wrongBody.CheckAsync(default)).Summary.ShouldBe($"GET http://127.0.0.1:{port}/ answered HTTP 200 but the body does not match /healthy/");
        }
        finally
        {
            service.Kill();
            await service.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task A_disk_monitor_reads_the_real_mount()
    {
        var never = await new DiskCheck(new MonitorDefinition { Name = "root", Kind = MonitorKind.Disk, Mount = "/", MaxPercent = 100.1 }).CheckAsync(default);
        var always = await new DiskCheck(new MonitorDefinition { Name = "root", Kind = MonitorKind.Disk, Mount = "/", MaxPercent = 0 }).CheckAsync(default);

        never.Verdict.ShouldBe(Verdict.Pass);
        always.Verdict.ShouldBe(Verdict.Fail);
        always.Summary.ShouldMatch(@"^/: [\d.]+% of bytes used \(threshold 0%\)$");
    }
}
