using Medic.Agent.Monitors;
using Medic.Agent.Policy;
using Medic.Contracts.Agent;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Monitors;

/// <summary>Monitors pushed by the control plane: the node's policy has the last word, and an accepted set survives a restart.</summary>
public sealed class MonitorHostTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("medic-pushed-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class NoEvents : IMonitorEvents
    {
        public ValueTask OpenedAsync(MonitorEvent e, CancellationToken ct) => ValueTask.CompletedTask;

        public ValueTask UpdatedAsync(MonitorEvent e, CancellationToken ct) => ValueTask.CompletedTask;

        public ValueTask ResolvedAsync(MonitorEvent e, CancellationToken ct) => ValueTask.CompletedTask;
    }

    private readonly List<AgentEvent> _reported = [];
    private readonly List<string> _log = [];

    private MonitorHost Host(string policy, params MonitorDefinition[] local) =>
        new(local, _dir, AgentPolicy.Parse(policy, "test-policy.yaml"), new NoEvents(), TimeProvider.System, _log.Add, _reported.Add);

    private static MonitorDefinition Tcp(string name) => new() { Name = name, Kind = MonitorKind.Tcp, Host = "127.0.0.1", Port = 80 };

    private static MonitorDefinition Check(string name, params string[] command) => new() { Name = name, Kind = MonitorKind.Command, Command = command };

    private string PushedOnDisk => File.ReadAllText(Path.Combine(_dir, MonitorHost.PushedFileName));

    private static MonitorDefinition Supervised(string name, params string[] start) => new() { Name = name, Kind = MonitorKind.Process, Start = start, Heal = new HealDefinition() };

    private static TaskSpec Push(MonitorSet set) => new("tsk_1", "nod_1", "n1", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1), TaskKind.Monitors, [], null,
        new Dictionary<string, string> { ["monitors"] = System.Text.Json.JsonSerializer.Serialize(set, MonitorJson.Default.MonitorSet) }, 30, 1024 * 1024);

    [Fact]
    public void A_monitor_that_starts_a_process_needs_exec_and_the_blocklist_still_applies()
    {
        var set = new MonitorSet([Supervised("shop", "/usr/bin/shop", "--port", "8080")]);

        Host("exec: false\n").Check(set).ShouldBe("policy: monitor 'shop' runs '/usr/bin/shop', and this node does not grant 'exec' (set exec: true in its agent policy)");
        Host("exec: true\n").Check(set).ShouldBeNull();
        Host("exec: true\n").Check(new MonitorSet([Supervised("wipe", "rm", "-rf", "/")]))!.ShouldStartWith("monitor 'wipe': blocklist");
    }

    [Fact]
    public void Healing_a_unit_needs_service_and_names_must_not_clash_with_local_monitors()
    {
        var unit = new MonitorSet([new MonitorDefinition { Name = "nginx", Kind = MonitorKind.Process, Unit = "nginx.service", Heal = new HealDefinition() }]);
        Host("service: false\n").Check(unit)!.ShouldContain("does not grant 'service'");
        Host("service: true\n").Check(unit).ShouldBeNull();

        var local = new MonitorDefinition { Name = "nginx", Kind = MonitorKind.Tcp, Host = "127.0.0.1", Port = 80 };
        Host("service: true\n", local).Check(unit)!.ShouldContain("already used on this node");
    }

    [Fact]
    public async Task The_executor_refuses_with_the_rule_or_applies_the_set_which_survives_a_restart()
    {
        var refused = await new PolicyTaskExecutor(AgentPolicy.Parse("exec: false\n", "p"), Host("exec: false\n"))
            .RunAsync(Push(new MonitorSet([Supervised("shop", "/usr/bin/shop")])), _ => ValueTask.CompletedTask, CancellationToken.None);
        refused.Status.ShouldBe(TaskStatus.Refused);
        refused.Reason!.ShouldContain("does not grant 'exec'");

        var host = Host("exec: true\n");
        var output = new List<string>();
        var applied = await new PolicyTaskExecutor(AgentPolicy.Parse("exec: true\n", "p"), host)
            .RunAsync(Push(new MonitorSet([Supervised("shop", "/usr/bin/shop")])), o => { output.Add(o.Data); return ValueTask.CompletedTask; }, CancellationToken.None);
        applied.Status.ShouldBe(TaskStatus.Completed);
        output.ShouldBe(["applied 1 monitor(s): shop\n"]);
        host.Apply(new MonitorSet([Supervised("shop", "/usr/bin/shop")])).Changed.ShouldBeFalse("the same set again changes nothing");

        Host("exec: true\n").Pushed.Select(m => m.Name).ShouldBe(["shop"]);
    }

    [Fact]
    public void A_pushed_exec_monitor_is_dropped_when_the_agent_restarts_with_exec_off()
    {
        Host("exec: true\n").Apply(new MonitorSet([Check("disk-check", "/usr/lib/nagios/plugins/check_disk"), Tcp("web")])).Changed.ShouldBeTrue();

        var restarted = Host("exec: false\n");

        restarted.Pushed.Select(m => m.Name).ShouldBe(["web"], "only the refused monitor is dropped; the others keep running");
        PushedOnDisk.ShouldNotContain("disk-check");
        var report = _reported.ShouldHaveSingleItem();
        report.Kind.ShouldBe(MonitorHost.RefusedEventKind);
        report.Data!["monitor.disk-check"].ShouldContain("does not grant 'exec'");
        report.Message.ShouldContain("at start");
        _log.ShouldContain(line => line.Contains("refused 'disk-check'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_policy_reload_stops_a_pushed_monitor_the_new_policy_refuses()
    {
        var host = Host("exec: true\n");
        host.Apply(new MonitorSet([Check("disk-check", "/usr/lib/nagios/plugins/check_disk"), Tcp("web")]));

        var admission = host.Reload(AgentPolicy.Parse("exec: true\nexec_allow:\n  - /usr/bin/true\n", "p"));

        admission.Refused.ShouldHaveSingleItem().Reason.ShouldContain("exec_allow");
        host.Pushed.Select(m => m.Name).ShouldBe(["web"]);
        _reported.ShouldHaveSingleItem().Message.ShouldContain("after the policy reload");
    }

    [Fact]
    public async Task Only_the_refused_monitor_of_a_pushed_set_is_refused()
    {
        var host = Host("exec: false\n");
        var output = new List<string>();

        var result = await new PolicyTaskExecutor(AgentPolicy.Parse("exec: false\n", "p"), host)
            .RunAsync(Push(new MonitorSet([Supervised("shop", "/usr/bin/shop"), Tcp("web")])), o => { output.Add(o.Data); return ValueTask.CompletedTask; }, CancellationToken.None);

        result.Status.ShouldBe(TaskStatus.Refused);
        result.Reason!.ShouldStartWith("refused 1 of 2 monitor(s), the others run: policy: monitor 'shop' runs '/usr/bin/shop'");
        host.Pushed.Select(m => m.Name).ShouldBe(["web"]);
        output.ShouldContain("applied 1 monitor(s): web\n");
        _reported.ShouldHaveSingleItem().Data!.Keys.ShouldContain("monitor.shop");
    }

    [Fact]
    public void A_pushed_log_monitor_outside_read_paths_is_refused_also_through_a_symlink()
    {
        var outside = Directory.CreateTempSubdirectory("medic-outside-").FullName;
        try
        {
            var allowed = Directory.CreateDirectory(Path.Combine(_dir, "logs")).FullName;
            File.WriteAllText(Path.Combine(outside, "secrets.env"), "DB_PASSWORD=hunter2\n");
            File.CreateSymbolicLink(Path.Combine(allowed, "app.log"), Path.Combine(outside, "secrets.env"));
            var host = Host($"read_paths:\n  - {allowed}\n");
            MonitorDefinition Log(string name, string path) => new() { Name = name, Kind = MonitorKind.Log, Path = path, Pattern = "." };

            var admission = host.Admit(new MonitorSet([
                Log("shadow", "/etc/shadow"), Log("link", Path.Combine(allowed, "app.log")), Log("dots", allowed + "/../../etc/passwd"),
                new MonitorDefinition { Name = "age", Kind = MonitorKind.FileAge, Path = "/etc", MaxAgeSeconds = 60 }, Log("fine", Path.Combine(allowed, "later.log"))]));

            admission.Accepted.Select(m => m.Name).ShouldBe(["fine"]);
            admission.Refused.Select(r => r.Monitor).ShouldBe(["shadow", "link", "dots", "age"]);
            admission.Refused[1].Reason.ShouldContain($"resolves to '{Path.Combine(outside, "secrets.env")}'");
            admission.Refused.ShouldAllBe(r => r.Reason.Contains("outside this node's read_paths"));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void The_state_directory_is_0700_and_the_pushed_monitors_0600_also_when_an_older_agent_left_them_wider()
    {
        File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var pushed = Path.Combine(_dir, MonitorHost.PushedFileName);
        File.WriteAllText(pushed, """{"monitors":[]}""");
        File.SetUnixFileMode(pushed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var spool = new EventSpool(_dir);
        Host("exec: false\n");

        File.GetUnixFileMode(_dir).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.GetUnixFileMode(pushed).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Host("exec: false\n").Apply(new MonitorSet([Tcp("web")]));
        File.GetUnixFileMode(pushed).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        spool.Append(new AgentEvent(EventSpool.NewId(), DateTimeOffset.UtcNow, "test", "m", null));
        File.GetUnixFileMode(spool.FilePath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var fresh = Path.Combine(_dir, "fresh-state");
        _ = new EventSpool(fresh);
        File.GetUnixFileMode(fresh).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
