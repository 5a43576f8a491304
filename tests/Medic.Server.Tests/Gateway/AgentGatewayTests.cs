using System.Net;
using Dapper;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Gateway;

/// <summary>The agent gateway with two real enrolled nodes on their own WebSockets.</summary>
public sealed class AgentGatewayTests
{
    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_task_result_is_accepted_only_from_the_node_the_task_was_sent_to(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var web = await WireAgent.EnrollAsync(server, "web-1");
        await using var intruder = await WireAgent.EnrollAsync(server, "db-1");
        await web.ConnectAsync(server);
        await intruder.ConnectAsync(server);

        using var exec = await server.Admin.PostAsync("/api/v1/exec", Json.Raw("""{"command":"uptime","selector":{"names":["web-1"]}}"""));
        var execution = await exec.ReadAsync(MedicJson.Default.ExecutionResponse, HttpStatusCode.Accepted);
        var task = await web.NextTaskAsync();

        // The other node learned the task id and answers for it, output and all; then sends its facts:
        // frames on one link are handled in order, so once the facts are stored the forged frames were handled too.
        await intruder.SendAsync(new TaskOutput(task.TaskId, 0, "stdout", "forged output\n"));
        await intruder.SendAsync(new TaskResult(task.TaskId, Contracts.Agent.TaskStatus.Completed, 0, 1, false, null));
        await intruder.SendAsync(new Hello(new HostFacts("db-1", "debian", "6.1", "x86_64", 2, 1 << 30, [], [], "systemd", "test", DateTimeOffset.UtcNow)));
        await PollAsync(async () => (await server.Database.QueryAsync<string?>("SELECT facts FROM nodes WHERE id = @id", new { id = intruder.NodeId })).Single() is not null,
            "the intruder's hello was not recorded");
        (await GetAsync(server, execution.Id)).Status.ShouldBe("running", "a result from another node ended the task");

        await web.SendAsync(new TaskOutput(task.TaskId, 0, "stdout", " 10:00:00 up 1 day\n"));
        await web.SendAsync(WireAgent.Completed(task, 7));
        ExecutionResponse done = null!;
        await PollAsync(async () => (done = await GetAsync(server, execution.Id)).Status != "running", "the execution did not finish");
        var result = done.Results.ShouldHaveSingleItem();
        (result.Server, result.Status, result.ExitCode, result.Stdout).ShouldBe(("web-1", TaskRunStatus.Completed, (int?)7, " 10:00:00 up 1 day\n"));
        server.Logs.Lines.ShouldContain(l => l.Message.Contains($"reported on task {task.TaskId}, which was sent to another node"));
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Monitors_a_nodes_policy_refused_are_in_the_audit_log_with_the_reason(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var web = await WireAgent.EnrollAsync(server, "web-1");
        await web.ConnectAsync(server);

        await web.SendAsync(new AgentEvent("evt_1", DateTimeOffset.UtcNow, "monitors.refused", "this node's policy refused 1 monitor(s) (at start): exec is not granted",
            new Dictionary<string, string> { ["monitor.backup-age"] = "exec is not granted by this node's policy", ["count"] = "1" }));

        AuditEntry? refused = null;
        await PollAsync(async () =>
        {
            using var page = await server.Admin.GetAsync("/api/v1/audit?action=monitor.refused");
            refused = (await page.ReadAsync(MedicJson.Default.AuditPage)).Items.FirstOrDefault();
            return refused is not null;
        }, "the refusal never reached the audit log");
        refused!.Actor.ShouldBe("node:" + web.NodeId);
        refused.Outcome.ShouldBe("denied");
        refused.Details["monitor.backup-age"].ShouldBe("exec is not granted by this node's policy");
    }

    private static async Task<ExecutionResponse> GetAsync(MedicServer server, string id)
    {
        using var response = await server.Admin.GetAsync($"/api/v1/executions/{id}");
        return await response.ReadAsync(MedicJson.Default.ExecutionResponse);
    }

    private static async Task PollAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, failure);
            await Task.Delay(50);
        }
    }
}
