using System.Text.Json;
using Medic.Agent.Watch;

namespace Medic.Agent.Tests.Watch;

/// <summary>medic watch as a whole, in-process: config, lock, log rotation, reports and notifications.</summary>
public sealed class WatchHostTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("medic-watch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_process_that_keeps_dying_ends_in_a_report_and_a_notification_to_slack_and_the_webhook()
    {
        await using var slack = new FakeHttpService(200, "ok");
        await using var hook = new FakeHttpService(200, "");
        var watchFile = Path.Combine(_dir, "watch.yaml");
        File.WriteAllText(watchFile, $"""
            state_dir: {_dir}/state
            notify:
              slack:
                webhook_url: {slack.Url}/services/T/B/X
              webhook:
                url: {hook.Url}/medic
            monitors:
              - name: worker
                kind: process
                start: [sh, -c, "echo 'fatal: no config' >&2; exit 3"]
                interval: 200ms
                heal:
                  max_restarts: 2
                  window: 1m
                  retries: 3
                  delay: 100ms
            """);
        using var console = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = WatchHost.RunAsync(watchFile, TextWriter.Synchronized(console), stop.Token);

        var message = await slack.WaitForRequestAsync(TimeSpan.FromSeconds(20));
        var webhook = await hook.WaitForRequestAsync(TimeSpan.FromSeconds(5));
        await stop.CancelAsync();
        (await run.WaitAsync(TimeSpan.FromSeconds(20))).ShouldBe(0);

        var text = JsonDocument.Parse(message.Body).RootElement.GetProperty("text").GetString()!;
        text.ShouldContain("worker: gave up restarting it (2 restarts within 1m (max_restarts 2))");
        text.ShouldContain("[stderr] fatal: no config");
        JsonDocument.Parse(webhook.Body).RootElement.GetProperty("event").GetString().ShouldBe("gave_up");
        slack.Requests.Count.ShouldBe(1, "only the give-up is notified for a healing monitor");

        var report = Directory.GetFiles(Path.Combine(_dir, "state", "reports")).ShouldHaveSingleItem();
        var markdown = File.ReadAllText(report);
        markdown.ShouldContain("- outcome: gave up: worker: gave up restarting it");
        markdown.ShouldContain("## What was done");
        markdown.ShouldContain("exited with code 3");
        var log = File.ReadAllText(Path.Combine(_dir, "state", "watch.log"));
        log.ShouldContain("incident opened: worker: not running");
        log.ShouldContain("notified slack: gave_up: worker");
        log.ShouldContain("medic watch: stopped");
        console.ToString().ShouldContain("worker: giving up");
    }

    [Fact]
    public void A_second_watch_of_the_same_file_is_refused_naming_the_holder()
    {
        using var first = WatchLock.Acquire(_dir, "/etc/medic/watch.yaml");

        var error = Should.Throw<AgentException>(() => WatchLock.Acquire(_dir, "/etc/medic/watch.yaml"));

        error.Message.ShouldBe($"another medic watch (pid {Environment.ProcessId}) is already running for /etc/medic/watch.yaml (lock {_dir}/watch.lock)");
        error.Remedy.ShouldBe($"stop it first (kill {Environment.ProcessId}), or watch another file");
        first.Dispose();
        using var again = WatchLock.Acquire(_dir, "/etc/medic/watch.yaml");
    }

    [Fact]
    public void The_log_rotates_by_size_and_keeps_the_configured_number_of_files()
    {
        var path = Path.Combine(_dir, "logs", "watch.log");
        using (var log = new RotatingLog(path, maxBytes: 200, files: 3, echo: null, TimeProvider.System))
        {
            for (var i = 0; i < 40; i++) log.WriteLine($"line {i:00} " + new string('.', 20));
        }

        Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).Order().ShouldBe(["watch.log", "watch.log.1", "watch.log.2"]);
        new FileInfo(path).Length.ShouldBeLessThanOrEqualTo(200);
        File.ReadAllText(path).ShouldContain("line 39");
        File.ReadAllText(path + ".2").ShouldNotContain("line 00");
    }

    [Fact]
    public void Secrets_can_come_from_the_environment_and_a_missing_one_is_named()
    {
        const string yaml = """
            notify:
              email:
                smtp_host: smtp.example.com
                username: medic
                password_env: MEDIC_TEST_SMTP_PASSWORD
                from: medic@example.com
                to: [ops@example.com]
            monitors:
              - { name: root, kind: disk, mount: /, max_percent: 90 }
            """;
        var config = WatchConfig.Parse(yaml, "/etc/medic/watch.yaml", name => name == "MEDIC_TEST_SMTP_PASSWORD" ? "pw" : null);
        config.Notify.Email!.Password.ShouldBe("pw");
        config.Notify.Email.Port.ShouldBe(587);
        config.StateDir.ShouldMatch(Environment.UserName == "root" ? "^/var/lib/medic/watch/watch-[0-9a-f]{8}$" : "/\\.medic/watch/watch-[0-9a-f]{8}$");

        var error = Should.Throw<AgentException>(() => WatchConfig.Parse(yaml, "/etc/medic/watch.yaml", _ => null));
        error.Message.ShouldBe("/etc/medic/watch.yaml, line 5: the environment variable MEDIC_TEST_SMTP_PASSWORD (from 'password_env') is not set");
    }

    [Theory]
    [InlineData("monitors: []\n", "no monitors")]
    [InlineData("notify:\n  slack:\n    webhook_url: hooks.slack.com\nmonitors:\n  - { name: r, kind: disk, mount: /, max_percent: 9 }", "line 3: 'webhook_url' is not an http:// or https:// URL")]
    [InlineData("notify:\n  pager: {}\nmonitors:\n  - { name: r, kind: disk, mount: /, max_percent: 9 }", "line 2: unknown setting 'pager' for 'notify'")]
    [InlineData("state_dir: relative/dir\nmonitors:\n  - { name: r, kind: disk, mount: /, max_percent: 9 }", "line 1: 'state_dir: relative/dir' must be an absolute path")]
    [InlineData("ai:\n  provider: openai\n  model: m\n  api_key: sk-1\nmonitors:\n  - { name: r, kind: disk, mount: /, max_percent: 9 }", "line 4: 'api_key' cannot be written in the watch file")]
    [InlineData("ai:\n  provider: gemini\n  model: m\nmonitors:\n  - { name: r, kind: disk, mount: /, max_percent: 9 }", "line 2: 'provider: gemini' must be openai or anthropic")]
    [InlineData("ai:\n  provider: openai\n  model: m\n  allow: [reboot]\nmonitors:\n  - { name: r, kind: disk, mount: /, max_percent: 9 }", "line 4: 'reboot' in 'allow' is not a fix medic watch can run here")]
    [InlineData("ai:\n  provider: openai\n  model: m\n  temperature: 1\nmonitors:\n  - { name: r, kind: disk, mount: /, max_percent: 9 }", "line 4: unknown setting 'temperature' for 'ai'")]
    public void A_wrong_watch_file_is_refused_with_the_line(string yaml, string expected)
    {
        var error = Should.Throw<AgentException>(() => WatchConfig.Parse(yaml, "/w.yaml", _ => null));

        error.Message.ShouldContain(expected);
    }

    [Fact]
    public void An_ai_section_takes_its_key_from_the_environment_and_its_defaults_and_the_key_is_a_secret()
    {
        const string yaml = """
            notify:
              slack:
                webhook_url: https://hooks.slack.com/services/T0/B0/XYZ
            ai:
              provider: anthropic
              model: claude-x
              api_key_env: MEDIC_TEST_AI_KEY
              allow: [remove-stale-lock, free-port]
            monitors:
              - { name: root, kind: disk, mount: /, max_percent: 90 }
            """;
        var config = WatchConfig.Parse(yaml, "/etc/medic/watch.yaml", name => name == "MEDIC_TEST_AI_KEY" ? "sk-ant-123" : null);

        var ai = config.Ai.ShouldNotBeNull();
        ai.ApiKey.ShouldBe("sk-ant-123");
        (ai.MaxTurns, ai.Timeout, ai.Budget).ShouldBe((20, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30)));
        ai.Allow.ShouldBe(["remove-stale-lock", "free-port"]);
        ai.Describe().ShouldBe("ai: anthropic claude-x (key from $MEDIC_TEST_AI_KEY); max 20 turns, 5m per diagnosis, budget 30m per incident; fixes allowed: remove-stale-lock, free-port");
        config.Secrets().ShouldBe(["https://hooks.slack.com/services/T0/B0/XYZ", "sk-ant-123"]);
        WatchHost.Redactor(config.Secrets())("key sk-ant-123 url https://hooks.slack.com/services/T0/B0/XYZ").ShouldBe("key [redacted] url [redacted]");
        Should.Throw<AgentException>(() => WatchConfig.Parse(yaml, "/etc/medic/watch.yaml", _ => null))
            .Message.ShouldBe("/etc/medic/watch.yaml, line 7: the environment variable MEDIC_TEST_AI_KEY (from 'api_key_env') is not set");
    }
}
