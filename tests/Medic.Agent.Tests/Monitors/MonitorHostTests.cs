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

    private MonitorHost Host(string policy, params MonitorDefinition[] local) =>
        new(local, _dir, AgentPolicy.Parse(policy, "test-policy.yaml"), new NoEvents(), TimeProvider.System, _ => { });

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
        host.Apply(new MonitorSet([Supervised("shop", "/usr/bin/shop")])).ShouldBeFalse("the same set again changes nothing");

        Host("exec: true\n").Pushed.Select(m => m.Name).ShouldBe(["shop"]);
    }
}
