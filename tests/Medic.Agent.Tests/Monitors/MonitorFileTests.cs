using System.Text.Json;
using Medic.Agent.Monitors;
using Medic.Contracts.Agent;

namespace Medic.Agent.Tests.Monitors;

/// <summary>The monitors file: what it accepts, and the line-numbered errors for what it does not.</summary>
public sealed class MonitorFileTests
{
    private const string Example = """
        # every kind once
        monitors:
          - name: web
            kind: process
            start: [/usr/bin/myapp, --port, "8080"]
            working_directory: /srv/web
            labels:
              team: web
            health:
              http: http://127.0.0.1:8080/healthz
              timeout: 1s
              failures: 2
            heal:
              max_restarts: 3
              window: 5m
              retries: 20
              delay: 250ms
          - name: nginx
            kind: process
            unit: nginx.service
            heal: true
          - name: cron
            kind: process
            match: '^/usr/sbin/cron'
          - name: api
            kind: http
            url: https://api.example.com/health
            expect_status: 200
            body_regex: '"status": *"ok"'
            interval: 30s
            for: 1m
            recover_after: 2
            severity: warning
          - { name: db, kind: tcp, host: 127.0.0.1, port: 5432 }
          - name: root
            kind: disk
            mount: /
            max_percent: 90
            recover_below: 85
            max_inodes_percent: 95
          - name: mem
            kind: memory
            max_percent: 95
          - name: cpu
            kind: cpu
            max_percent: 98
            for: 10m
          - name: load
            kind: load
            max_load: 16
          - name: errors
            kind: log
            path: /var/log/app.log
            pattern: 'ERROR|FATAL'
            count: 5
            window: 2m
          - name: cert
            kind: tls
            host: example.com
            min_days: 21
          - name: backup
            kind: file_age
            path: /var/backups/db
            max_age: 26h
          - name: users
            kind: command
            command:
              - /usr/lib/nagios/plugins/check_users
              - -w
              - "5"
        """;

    [Fact]
    public void Every_kind_reads_with_its_own_fields_and_the_common_ones()
    {
        var monitors = MonitorFile.Parse(Example, "monitors.yaml");

        monitors.Select(m => m.Kind).ShouldBe([
            MonitorKind.Process, MonitorKind.Process, MonitorKind.Process, MonitorKind.Http, MonitorKind.Tcp, MonitorKind.Disk,
            MonitorKind.Memory, MonitorKind.Cpu, MonitorKind.Load, MonitorKind.Log, MonitorKind.Tls, MonitorKind.FileAge, MonitorKind.Command]);
        var web = monitors[0];
        web.Start.ShouldBe(["/usr/bin/myapp", "--port", "8080"]);
        web.Labels["team"].ShouldBe("web");
        web.Health!.Http.ShouldBe("http://127.0.0.1:8080/healthz");
        web.Health.TimeoutSeconds.ShouldBe(1);
        web.Health.Failures.ShouldBe(2);
        web.Heal.ShouldBe(new HealDefinition { MaxRestarts = 3, WindowSeconds = 300, Retries = 20, DelaySeconds = 0.25 });
        monitors[1].Heal.ShouldBe(new HealDefinition());
        monitors[2].Heal.ShouldBeNull();
        var api = monitors[3];
        (api.IntervalSeconds, api.ForSeconds, api.RecoverAfter, api.Severity, api.BodyRegex).ShouldBe((30.0, 60.0, 2, MonitorSeverity.Warning, "\"status\": *\"ok\""));
        (monitors[4].Host, monitors[4].Port).ShouldBe(("127.0.0.1", 5432));
        (monitors[5].MaxPercent, monitors[5].RecoverBelow, monitors[5].MaxInodesPercent).ShouldBe((90.0, 85.0, 95.0));
        (monitors[9].Count, monitors[9].WindowSeconds).ShouldBe((5, 120.0));
        (monitors[10].Port, monitors[10].MinDays).ShouldBe((443, 21));
        monitors[11].MaxAgeSeconds.ShouldBe(26 * 3600);
        monitors[12].Command.ShouldBe(["/usr/lib/nagios/plugins/check_users", "-w", "5"]);
    }

    [Fact]
    public void Definitions_round_trip_through_the_json_the_control_plane_pushes()
    {
        var monitors = MonitorFile.Parse(Example, "monitors.yaml");

        var json = JsonSerializer.Serialize(new MonitorSet(monitors), MonitorJson.Default.MonitorSet);
        var back = JsonSerializer.Deserialize(json, MonitorJson.Default.MonitorSet)!;

        json.ShouldContain("\"kind\":\"file_age\"");
        json.ShouldContain("\"max_age_seconds\":93600");
        back.Monitors.Count.ShouldBe(monitors.Count);
        back.Monitors.Select(m => MonitorFile.Validate(m)).ShouldAllBe(p => p == null);
        back.Monitors[0].Start.ShouldBe(monitors[0].Start);
        back.Monitors[0].Heal.ShouldBe(monitors[0].Heal);
    }

    [Theory]
    [InlineData("monitors:\n  - name: a\n    kind: disc\n    mount: /", "line 3: 'kind: disc' is not a monitor kind")]
    [InlineData("monitors:\n  - name: a\n    kind: disk\n    mount: /\n    url: http://x", "line 5: unknown setting 'url' for a disk monitor")]
    [InlineData("monitors:\n  - name: a\n    kind: disk\n    mount: /", "line 2: monitor 'a': a disk monitor needs max_percent")]
    [InlineData("monitors:\n  - name: a\n    kind: process\n    start: /usr/bin/app --port 1", "line 4: 'start' is run as an argv, never through a shell: write it as a list, e.g. start: [/usr/bin/app, --port, 1]")]
    [InlineData("monitors:\n  - name: a\n    kind: process\n    match: app\n    heal: true", "heal needs a way to restart")]
    [InlineData("monitors:\n  - name: a\n    kind: http\n    url: http://x\n    interval: soon", "line 5: 'interval: soon' is not a duration")]
    [InlineData("monitors:\n  - name: a\n    kind: log\n    path: /x\n    pattern: '('", "'pattern' is not a valid regular expression")]
    [InlineData("monitors:\n  - name: a\n    kind: tcp\n    host: h\n    port: 1\n  - name: a\n    kind: tcp\n    host: h\n    port: 2", "line 6: two monitors are named 'a'")]
    [InlineData("monitors:\n\t- name: a", "line 2: a tab in the indentation")]
    [InlineData("monitors:\n  - name: a\n     kind: tcp", "line 3: unexpected indentation")]
    [InlineData("monitor:\n  - name: a", "line 1: unknown setting 'monitor' for a monitors file")]
    [InlineData("monitors:\n  - name: a\n    kind: tcp\n    kind: http", "line 4: 'kind' appears twice")]
    [InlineData("monitors:\n  - name: &n a\n    kind: tcp", "line 2: anchors and aliases ('&', '*') are not supported")]
    [InlineData("monitors:\n  - name: a\n    kind: !!str tcp", "line 3: the tag 'tag:yaml.org,2002:str' is not supported")]
    [InlineData("monitors:\n  - name: a\n    kind: log\n    path: /x\n    pattern: |\n      ERROR", "line 5: block scalars ('|', '>') are not supported")]
    [InlineData("monitors: []\n---\nmonitors: []", "line 2: more than one document ('---') is not supported")]
    [InlineData("monitors:\n  - name: a\n    kind: 'tcp", "line 3: not valid YAML: while scanning a quoted scalar")]
    [InlineData("monitors:\n  - name: a\n    kind: disk\n    mount: /\n    max_percent: 80\n    recover_below: 90", "'recover_below: 90' must not be above the threshold 80")]
    [InlineData("monitors:\n  - name: a\n    kind: process\n    match: app\n    limits: { cpu: lots }", "line 5: 'cpu: lots' is not a percentage of one core")]
    [InlineData("monitors:\n  - name: a\n    kind: process\n    match: app\n    limits:\n      memory: 1.5 gigs", "line 6: 'memory: 1.5 gigs' is not a size")]
    [InlineData("monitors:\n  - name: a\n    kind: process\n    match: app\n    limits:\n      for: 2m", "line 6: 'limits' needs cpu, memory or both")]
    [InlineData("monitors:\n  - name: a\n    kind: process\n    match: app\n    limits:\n      cpu: 90%\n      rss: 1GiB", "line 7: unknown setting 'rss' for 'limits' (known: cpu, memory, for)")]
    [InlineData("monitors:\n  - name: a\n    kind: process\n    match: app\n    limits: { cpu: 0% }", "line 5: 'cpu: 0%' is not a percentage of one core above 0")]
    [InlineData("monitors:\n  - name: a\n    kind: cpu\n    max_percent: 90\n    limits: { cpu: 50% }", "line 5: unknown setting 'limits' for a cpu monitor")]
    public void A_wrong_file_is_refused_naming_the_line_and_what_is_wrong(string yaml, string expected)
    {
        var error = Should.Throw<AgentException>(() => MonitorFile.Parse(yaml, "m.yaml"));

        error.Message.ShouldContain(expected);
        error.Message.ShouldStartWith("m.yaml");
        error.Remedy.ShouldContain("docs/monitors.md");
    }

    [Theory]
    [InlineData("{ cpu: 90%, memory: 1.5GiB, for: 2m }", 90.0, 1610612736L, 120.0)]
    [InlineData("{ cpu: 250 }", 250.0, null, 0.0)]
    [InlineData("{ memory: 800MiB, for: 30s }", null, 838860800L, 30.0)]
    [InlineData("{ memory: 512MB }", null, 512000000L, 0.0)]
    [InlineData("{ memory: '1073741824' }", null, 1073741824L, 0.0)]
    public void Process_limits_read_cpu_as_a_percentage_of_one_core_and_memory_as_a_size(string limits, double? cpu, long? memory, double seconds)
    {
        var monitor = MonitorFile.Parse($"monitors:\n  - name: shop\n    kind: process\n    unit: shop.service\n    limits: {limits}\n", "m.yaml").Single();

        monitor.Limits.ShouldBe(new ProcessLimitsDefinition { CpuPercent = cpu, MemoryBytes = memory, ForSeconds = seconds });
        var json = JsonSerializer.Serialize(new MonitorSet([monitor]), MonitorJson.Default.MonitorSet);
        JsonSerializer.Deserialize(json, MonitorJson.Default.MonitorSet)!.Monitors.Single().Limits.ShouldBe(monitor.Limits);
    }

    [Fact]
    public void Flow_collections_may_span_lines_and_a_document_may_start_with_three_dashes()
    {
        var monitor = MonitorFile.Parse("---\nmonitors:\n  - name: users\n    kind: command\n    command: [\n      /usr/bin/check_users,\n      -w, '5']\n", "m.yaml").Single();

        monitor.Command.ShouldBe(["/usr/bin/check_users", "-w", "5"]);
    }

    [Fact]
    public void An_empty_file_has_no_monitors()
    {
        MonitorFile.Parse("# nothing yet\n", "m.yaml").ShouldBeEmpty();
    }

    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("15s", 15)]
    [InlineData("5m", 300)]
    [InlineData("2h", 7200)]
    [InlineData("1h30m", 5400)]
    [InlineData("1.5", 1.5)]
    public void Monitor_files_read_durations_with_the_shared_grammar(string text, double seconds)
    {
        var monitor = MonitorFile.Parse($"monitors:\n  - name: a\n    kind: http\n    url: http://x\n    interval: {text}\n", "m.yaml").Single();
        monitor.IntervalSeconds.ShouldBe(seconds);
    }

    [Fact]
    public void A_wrong_duration_in_a_monitor_file_gets_the_shared_remedy()
    {
        var error = Should.Throw<AgentException>(() => MonitorFile.Parse("monitors:\n  - name: a\n    kind: http\n    url: http://x\n    interval: 1y\n", "m.yaml"));
        error.Message.ShouldContain(Medic.Contracts.Duration.Hint);
    }
}
