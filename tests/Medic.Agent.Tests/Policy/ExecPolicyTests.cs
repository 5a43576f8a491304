using Medic.Agent.Policy;
using Medic.Contracts.Agent;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Policy;

/// <summary>exec_allow: "exactly these commands" for owners who want more than the blocklist's guard rail.</summary>
public sealed class ExecPolicyTests
{
    private static readonly AgentPolicy Allowlist = AgentPolicy.Parse("""
        exec: true
        exec_allow:
          - systemctl restart nginx        # exactly this
          - /usr/bin/journalctl -u *       # this prefix, any further arguments
          - /usr/bin/echo *
        """, "agent-policy.yaml");

    [Theory]
    [InlineData(new[] { "systemctl", "restart", "nginx" }, true)]
    [InlineData(new[] { "systemctl", "restart", "nginx", "postgresql" }, false)]
    [InlineData(new[] { "systemctl", "restart" }, false)]
    [InlineData(new[] { "/usr/bin/systemctl", "restart", "nginx" }, false)]
    [InlineData(new[] { "/usr/bin/journalctl", "-u", "nginx", "-n", "50" }, true)]
    [InlineData(new[] { "/usr/bin/journalctl", "-u" }, true)]
    [InlineData(new[] { "/usr/bin/journalctl", "--vacuum-size=1" }, false)]
    [InlineData(new[] { "sh", "-c", "systemctl restart nginx" }, false)]
    [InlineData(new[] { "bash", "-c", "echo hi" }, false)]
    public void With_an_allowlist_only_the_listed_commands_run(string[] argv, bool allowed) =>
        (ExecPolicy.Refusal(argv, Allowlist) is null).ShouldBe(allowed);

    [Fact]
    public void The_blocklist_and_the_exec_grant_still_apply_on_top_of_the_allowlist()
    {
        var everything = AgentPolicy.Parse("exec: true\nexec_allow:\n  - rm *\n", "p");
        ExecPolicy.Refusal(["rm", "-rf", "/"], everything)!.ShouldStartWith("blocklist");
        ExecPolicy.Refusal(["systemctl", "restart", "nginx"], Allowlist with { Exec = false })!.ShouldContain("does not grant 'exec'");
    }

    [Fact]
    public async Task An_exec_task_off_the_allowlist_is_refused_with_the_rule()
    {
        var result = await new PolicyTaskExecutor(Allowlist).RunAsync(
            new TaskSpec("tsk_1", "nod_1", "n1", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1), TaskKind.Exec, ["/usr/bin/id"], null, null, 30, 1024 * 1024),
            _ => ValueTask.CompletedTask, CancellationToken.None);

        result.Status.ShouldBe(TaskStatus.Refused);
        result.Reason.ShouldBe("policy: '/usr/bin/id' is not on this node's exec_allow list (add it to the agent policy to allow it)");
    }

    [Fact]
    public async Task An_exec_task_on_the_allowlist_runs()
    {
        var output = new System.Text.StringBuilder();
        var result = await new PolicyTaskExecutor(Allowlist).RunAsync(
            new TaskSpec("tsk_1", "nod_1", "n1", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1), TaskKind.Exec, ["/usr/bin/echo", "allowed"], null, null, 30, 1024 * 1024),
            o => { output.Append(o.Data); return ValueTask.CompletedTask; }, CancellationToken.None);

        result.Status.ShouldBe(TaskStatus.Completed);
        output.ToString().ShouldBe("allowed\n");
    }

    [Fact]
    public void An_allowlist_entry_that_is_only_a_wildcard_is_a_mistake() =>
        Should.Throw<AgentException>(() => AgentPolicy.Parse("exec_allow:\n  - \"*\"\n", "p.yaml")).Message.ShouldContain("line 2");
}
