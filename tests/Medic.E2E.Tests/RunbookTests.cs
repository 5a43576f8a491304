using System.Diagnostics;
using System.Text.Json;

namespace Medic.E2E.Tests;

/// <summary>Runbooks applied and run with the real CLI on <c>medic up</c>, through this machine's real agent (exec granted).</summary>
public sealed class RunbookTests : IDisposable
{
    private readonly MedicHome _home = new();
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("medic-rb-");

    /// <summary>This machine's server name once its agent (started by medic up) is online.</summary>
    private async Task<string> LocalServerAsync()
    {
        var hostname = Environment.MachineName;
        await _home.WaitForStatusAsync(hostname, "online", TimeSpan.FromSeconds(30));
        return hostname;
    }

    private string Write(string file, string yaml)
    {
        var dir = Path.Combine(_work.FullName, "runbooks");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, file), yaml);
        return dir;
    }

    [Fact]
    public async Task A_runbook_runs_through_the_agent_with_captures_conditions_and_checks_and_a_hostile_parameter_stays_a_literal()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        var host = await LocalServerAsync();
        var data = Directory.CreateDirectory(Path.Combine(_work.FullName, "data")).FullName;
        var dir = Write("echo.yaml", """
            name: e2e-echo
            version: 1
            description: Echo a parameter every way it can reach a command.
            risk: low
            parameters:
              unit: {type: string}
              dir: {type: string, pattern: '/[A-Za-z0-9._/-]+'}
            targets: incident
            steps:
              - name: as an argv element
                run: [printf, '%s\n', '${{ params.unit }}']
                capture: printed
              - name: as an environment variable
                shell: printf '%s' "$MEDIC_PARAM_UNIT" > "$MEDIC_PARAM_DIR/env.txt"
              - name: when the capture matches
                when: captures.printed == params.unit
                shell: touch "$MEDIC_PARAM_DIR/compared"
              - name: when it does not
                when: captures.printed == 'something else'
                shell: touch "$MEDIC_PARAM_DIR/skipped"
              - name: verify
                check:
                  shell: test -f "$MEDIC_PARAM_DIR/compared"
                  retries: 2
                  delay: 1s
            """);
        Write("broken.yaml", """
            name: e2e-broken
            version: 1
            risk: medium
            parameters:
              dir: {type: string}
            targets: incident
            steps:
              - name: fails
                shell: echo about to fail; exit 3
              - name: never runs
                shell: touch "$MEDIC_PARAM_DIR/never"
            rollback:
              - name: undo
                shell: touch "$MEDIC_PARAM_DIR/rolled-back"
            """);

        var apply = await _home.RunAsync("runbook", "apply", "-f", dir);
        apply.ExitCode.ShouldBe(0, apply.ToString());
        apply.Stdout.ShouldBe("e2e-broken v1: stored (broken.yaml)\ne2e-echo v1: stored (echo.yaml)\n");
        (await _home.RunAsync("runbook", "apply", "-f", dir)).Stdout.ShouldContain("e2e-echo v1: unchanged");

        const string hostile = "nginx; rm -rf / $(touch /tmp/pwned) `id` \"'";
        var run = await _home.RunAsync("runbook", "run", "e2e-echo", "--target", host, "--param", "unit=" + hostile, "--param", "dir=" + data);
        run.ExitCode.ShouldBe(0, run.ToString());
        run.Stdout.ShouldContain($"{host}: {hostile}\n");
        run.Stdout.ShouldContain($"{host}: step 1 'as an argv element' ok");
        run.Stdout.ShouldContain($"{host}: step 4 'when it does not' skipped: when 'captures.printed == 'something else'' is false");
        run.Stdout.ShouldContain($"{host}: step 5 'verify' ok");
        run.Stderr.ShouldContain("succeeded");
        File.ReadAllText(Path.Combine(data, "env.txt")).ShouldBe(hostile);
        File.Exists(Path.Combine(data, "compared")).ShouldBeTrue();
        File.Exists(Path.Combine(data, "skipped")).ShouldBeFalse();

        var failed = await _home.RunAsync("runbook", "run", "e2e-broken", "--target", host, "--param", "dir=" + data, "--json");
        failed.ExitCode.ShouldBe(1, failed.ToString());
        var result = JsonDocument.Parse(failed.Stdout).RootElement;
        result.GetProperty("status").GetString().ShouldBe("failed");
        result.GetProperty("error").GetString().ShouldBe($"step 1 'fails' on {host} failed: exit 3; rollback ran: 1 ok, 0 failed");
        var steps = result.GetProperty("steps").EnumerateArray().Select(s => (s.GetProperty("phase").GetString(), s.GetProperty("name").GetString(), s.GetProperty("status").GetString())).ToList();
        steps.ShouldBe([("main", "fails", "failed"), ("rollback", "undo", "ok")]);
        result.GetProperty("steps")[0].GetProperty("stdout").GetString().ShouldBe("about to fail\n");
        File.Exists(Path.Combine(data, "rolled-back")).ShouldBeTrue();
        File.Exists(Path.Combine(data, "never")).ShouldBeFalse();

        var dry = await _home.RunAsync("runbook", "run", "e2e-echo", "--target", host, "--param", "unit=web", "--param", "dir=" + data, "--dry-run");
        dry.ExitCode.ShouldBe(0, dry.ToString());
        dry.Stdout.ShouldContain("""argv: ["printf", "%s\\n", "web"]""");
        dry.Stdout.ShouldContain("env:  MEDIC_PARAM_DIR=");
        dry.Stdout.ShouldContain("when captures.printed == params.unit (decided when the step is reached)");

        var bad = await _home.RunAsync("runbook", "run", "e2e-echo", "--target", host, "--param", "unit=x", "--param", "dir=relative");
        bad.ExitCode.ShouldBe(2, bad.ToString());
        bad.Stderr.ShouldContain("--param dir 'relative' does not match the pattern");

        File.WriteAllText(Path.Combine(dir, "echo.yaml"), File.ReadAllText(Path.Combine(dir, "echo.yaml")).Replace("version: 1", "version: 2").Replace("verify", "verify it"));
        (await _home.RunAsync("runbook", "apply", "-f", Path.Combine(dir, "echo.yaml"))).Stdout.ShouldBe("e2e-echo v2: stored (echo.yaml)\n");
        var diff = await _home.RunAsync("runbook", "diff", "e2e-echo", "1", "2");
        diff.ExitCode.ShouldBe(0, diff.ToString());
        diff.Stdout.ShouldContain("-version: 1\n+version: 2\n");
        diff.Stdout.ShouldContain("-  - name: verify\n+  - name: verify it\n");
        var show = await _home.RunAsync("runbook", "show", "e2e-echo", "--version", "1");
        show.Stdout.ShouldStartWith("e2e-echo v1 (low risk, tenant): Echo a parameter every way it can reach a command.\nversions: 1, 2;");
        var list = await _home.RunAsync("runbook", "list");
        list.Stdout.ShouldContain("e2e-echo");
        list.Stdout.ShouldContain("delete-old-files");

        var invalid = Write("invalid.yaml", "name: x\nversion: 1\nrisk: low\nsteps:\n  - sudo: [rm]\n");
        var refused = await _home.RunAsync("runbook", "apply", "-f", Path.Combine(invalid, "invalid.yaml"));
        refused.ExitCode.ShouldBe(2, refused.ToString());
        refused.Stderr.ShouldContain("line 5, column 5: steps[1]: unknown step type 'sudo'");
        File.Exists("/tmp/pwned").ShouldBeFalse();
    }

    [Fact]
    public async Task The_library_recipes_delete_old_files_rotate_large_logs_and_kill_a_process_on_a_real_server()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        var host = await LocalServerAsync();

        // delete-old-files: only the files older than the limit go.
        var old = Directory.CreateDirectory(Path.Combine(_work.FullName, "old-files")).FullName;
        foreach (var (name, age) in new[] { ("ancient.tar.gz", 40), ("old.tar.gz", 20), ("fresh.tar.gz", 1), ("old.txt", 30) })
        {
            var path = Path.Combine(old, name);
            File.WriteAllText(path, name);
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddDays(-age));
        }

        var delete = await _home.RunAsync("runbook", "run", "delete-old-files", "--target", host, "--param", "directory=" + old, "--param", "days=14", "--param", "name=*.tar.gz");
        delete.ExitCode.ShouldBe(0, delete.ToString());
        Directory.GetFiles(old).Select(Path.GetFileName).Order().ShouldBe(["fresh.tar.gz", "old.txt"]);
        var refused = await _home.RunAsync("runbook", "run", "delete-old-files", "--target", host, "--param", "directory=/", "--param", "days=1");
        refused.ExitCode.ShouldBe(2, refused.ToString());
        refused.Stderr.ShouldContain("--param directory '/' does not match the pattern");

        // rotate-large-logs: the large log is compressed and emptied; the small one stays.
        var logs = Directory.CreateDirectory(Path.Combine(_work.FullName, "logs")).FullName;
        File.WriteAllText(Path.Combine(logs, "big.log"), string.Concat(Enumerable.Repeat("a line of the application's log\n", 70_000)));
        File.WriteAllText(Path.Combine(logs, "small.log"), "small\n");
        var rotate = await _home.RunAsync("runbook", "run", "rotate-large-logs", "--target", host, "--param", "directory=" + logs, "--param", "min_size_mb=1", "--yes");
        rotate.ExitCode.ShouldBe(0, rotate.ToString());
        new FileInfo(Path.Combine(logs, "big.log")).Length.ShouldBe(0);
        File.ReadAllText(Path.Combine(logs, "small.log")).ShouldBe("small\n");
        Directory.GetFiles(logs, "big.log.*.gz").ShouldHaveSingleItem();

        // kill-process: the PID is checked against its name, then killed.
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
        try
        {
            var wrongName = await _home.RunAsync("runbook", "run", "kill-process", "--target", host, "--param", $"pid={sleeper.Id}", "--param", "process=nginx", "--json");
            wrongName.ExitCode.ShouldBe(1, wrongName.ToString());
            wrongName.Stdout.ShouldContain($"process {sleeper.Id} is sleep, not nginx");
            sleeper.HasExited.ShouldBeFalse();

            var kill = await _home.RunAsync("runbook", "run", "kill-process", "--target", host, "--param", $"pid={sleeper.Id}", "--param", "process=sleep");
            kill.ExitCode.ShouldBe(0, kill.ToString());
            sleeper.WaitForExit(10_000).ShouldBeTrue();
        }
        finally
        {
            if (!sleeper.HasExited) sleeper.Kill();
        }
    }

    [Fact]
    public async Task Renice_process_lowers_every_thread_of_a_busy_process_and_refuses_a_pid_that_is_another_program()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        var host = await LocalServerAsync();
        using var busy = Process.Start(new ProcessStartInfo("sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })!;
        try
        {
            var wrongName = await _home.RunAsync("runbook", "run", "renice-process", "--target", host, "--param", $"pid={busy.Id}", "--param", "process=java", "--json");
            wrongName.ExitCode.ShouldBe(1, wrongName.ToString());
            wrongName.Stdout.ShouldContain($"process {busy.Id} is sh, not java");
            Nice(busy.Id).ShouldBe(0, "a refused run changes nothing");

            var renice = await _home.RunAsync("runbook", "run", "renice-process", "--target", host, "--param", $"pid={busy.Id}", "--param", "process=sh", "--param", "niceness=15");
            renice.ExitCode.ShouldBe(0, renice.ToString());
            Nice(busy.Id).ShouldBe(15);
            busy.HasExited.ShouldBeFalse("renice lowers the priority; the process keeps running");
        }
        finally
        {
            busy.Kill();
        }

        static int Nice(int pid) => int.Parse(File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[16], System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        _home.Dispose();
        try
        {
            _work.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
