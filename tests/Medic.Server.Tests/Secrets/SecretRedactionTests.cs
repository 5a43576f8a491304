using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Secrets;

/// <summary>
/// A server's output that carries one of the tenant's secret values, through a connected node on
/// the real agent link (signed tasks, output frames): what the API returns and the database keeps
/// names the secret instead. And runbooks that read <c>${{ secrets.NAME }}</c>.
/// </summary>
public sealed class SecretRedactionTests
{
    private const string Password = "pg-Pa55word-from-the-vault";

    private static async Task SetAsync(MedicServer server, string name, string value)
    {
        using var response = await server.Admin.PutAsync("/api/v1/secrets/" + name, Json.Body(new SetSecretRequest(value), SecretsJson.Default.SetSecretRequest));
        response.StatusCode.ShouldBeOneOf(HttpStatusCode.Created, HttpStatusCode.OK);
    }

    private static async Task<ExecutionResponse> ExecAsync(MedicServer server, WireAgent agent, string output)
    {
        using var exec = await server.Admin.PostAsync("/api/v1/exec", Json.Raw("""{"command":"cat /etc/app.conf","selector":{"names":["web-1"]}}"""));
        var execution = await exec.ReadAsync(MedicJson.Default.ExecutionResponse, HttpStatusCode.Accepted);
        var task = await agent.NextTaskAsync();
        await agent.SendAsync(new TaskOutput(task.TaskId, 0, "stdout", output));
        await agent.SendAsync(new TaskOutput(task.TaskId, 1, "stderr", "warning: " + output));
        await agent.SendAsync(WireAgent.Completed(task, 0));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await server.Admin.GetAsync($"/api/v1/executions/{execution.Id}");
            var done = await response.ReadAsync(MedicJson.Default.ExecutionResponse);
            if (done.Status != "running") return done;
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the execution did not finish");
            await Task.Delay(50);
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Exec_and_diag_output_holding_a_secret_value_is_returned_and_stored_with_the_secrets_name(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var agent = await WireAgent.EnrollAsync(server, "web-1");
        await agent.ConnectAsync(server);
        await SetAsync(server, "db-password", Password);

        var result = (await ExecAsync(server, agent, $"DB_PASSWORD={Password}\nDB_HOST=db-1\n")).Results.ShouldHaveSingleItem();
        result.Stdout.ShouldBe("DB_PASSWORD=[secret:db-password]\nDB_HOST=db-1\n");
        result.Stderr.ShouldBe("warning: DB_PASSWORD=[secret:db-password]\nDB_HOST=db-1\n");

        var diag = server.Admin.PostAsync($"/api/v1/servers/{agent.NodeId}/diag", Json.Raw("""{"verb":"processes"}"""));
        var task = await agent.NextTaskAsync();
        task.Verb.ShouldBe("processes");
        await agent.SendAsync(new TaskOutput(task.TaskId, 0, "stdout", $"1234 postgres -c password={Password}\n"));
        await agent.SendAsync(new TaskResult(task.TaskId, Contracts.Agent.TaskStatus.Failed, 1, 5, false, $"exited 1 after printing {Password}"));
        using (var response = await diag)
        {
            var body = await response.Content.ReadAsStringAsync();
            body.ShouldNotContain(Password);
            var answer = await response.ReadAsync(MedicJson.Default.TaskRunResponse);
            answer.Stdout.ShouldBe("1234 postgres -c password=[secret:db-password]\n");
            answer.Reason.ShouldBe("exited 1 after printing [secret:db-password]");
        }

        (await server.Database.DumpAllAsync()).ShouldNotContain(Password);
        server.Logs.Lines.ShouldNotContain(l => l.Message.Contains(Password));
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_changed_or_deleted_secret_is_redacted_by_its_new_value_at_once(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var agent = await WireAgent.EnrollAsync(server, "web-1");
        await agent.ConnectAsync(server);
        await SetAsync(server, "api-token", "token-one-1111");
        (await ExecAsync(server, agent, "token-one-1111 token-two-2222")).Results.Single().Stdout.ShouldBe("[secret:api-token] token-two-2222");

        await SetAsync(server, "api-token", "token-two-2222");
        (await ExecAsync(server, agent, "token-one-1111 token-two-2222")).Results.Single().Stdout.ShouldBe("token-one-1111 [secret:api-token]");

        (await server.Admin.DeleteAsync("/api/v1/secrets/api-token")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await ExecAsync(server, agent, "token-one-1111 token-two-2222")).Results.Single().Stdout.ShouldBe("token-one-1111 token-two-2222");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_runbook_step_gets_a_secret_in_its_signed_task_its_stored_output_names_it_and_a_missing_secret_fails_its_step_by_name(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var agent = await WireAgent.EnrollAsync(server, "web-1");
        await agent.ConnectAsync(server);
        await SetAsync(server, "db-password", Password);
        const string Yaml = """
            name: check-db
            version: 1
            risk: low
            targets: {names: [web-1]}
            steps:
              - name: connect
                run: [psql, -h, db-1, -c, select 1]
                env:
                  PGPASSWORD: '${{ secrets.db-password }}'
              - name: token
                run: [curl, -H, '${{ secrets.not-set-yet }}', https://example.invalid/]
            """;
        using (var applied = await server.Admin.PostAsync("/api/v1/runbooks", new StringContent(Yaml, Encoding.UTF8, "application/yaml")))
        {
            applied.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var started = await server.Admin.PostAsync("/api/v1/runbooks/check-db/runs", Json.Raw("{}"));
        var runId = (await started.ReadAsync(MedicJson.Default.RunbookRunResponse, HttpStatusCode.Accepted)).Id;
        var task = await agent.NextTaskAsync();
        task.Argv.ShouldBe(["env", "PGPASSWORD=" + Password, "psql", "-h", "db-1", "-c", "select 1"]);
        await agent.SendAsync(new TaskOutput(task.TaskId, 0, "stdout", $"connecting with password {Password}\n"));
        await agent.SendAsync(WireAgent.Completed(task, 0));

        RunbookRunResponse run;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await server.Admin.GetAsync($"/api/v1/runbook-runs/{runId}");
            run = await response.ReadAsync(MedicJson.Default.RunbookRunResponse);
            if (run.Status.ToText() != "running") break;
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the run did not finish");
            await Task.Delay(50);
        }

        run.Status.ToText().ShouldBe("failed");
        run.Steps[0].Stdout.ShouldBe("connecting with password [secret:db-password]\n");
        run.Steps[1].Status.ToText().ShouldBe("failed");
        run.Steps[1].Reason!.ShouldContain("the secret 'not-set-yet' does not exist in this tenant");
        run.Steps[1].Reason!.ShouldContain("medic secrets set not-set-yet");
        (await server.Database.DumpAllAsync()).ShouldNotContain(Password);

        using var dry = await server.Admin.PostAsync("/api/v1/runbooks/check-db/runs", Json.Raw("""{"dry_run":true}"""));
        var plan = (await dry.ReadAsync(MedicJson.Default.RunbookRunResponse)).Plan!;
        plan[0].Env!["PGPASSWORD"].ShouldBe("<secret db-password>");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_value_split_across_live_output_chunks_never_shows_in_the_live_stream(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var agent = await WireAgent.EnrollAsync(server, "web-1");
        await agent.ConnectAsync(server);
        await SetAsync(server, "db-password", Password);
        const string Yaml = """
            name: show-config
            version: 1
            risk: low
            targets: {names: [web-1]}
            steps:
              - name: show
                run: [cat, /etc/app.conf]
            """;
        using (var applied = await server.Admin.PostAsync("/api/v1/runbooks", new StringContent(Yaml, Encoding.UTF8, "application/yaml")))
        {
            applied.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var started = await server.Admin.PostAsync("/api/v1/runbooks/show-config/runs", Json.Raw("{}"));
        var runId = (await started.ReadAsync(MedicJson.Default.RunbookRunResponse, HttpStatusCode.Accepted)).Id;
        var task = await agent.NextTaskAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + server.AdminToken);
        await socket.ConnectAsync(new Uri(server.BaseAddress.ToString().Replace("http", "ws", StringComparison.Ordinal) + "ws/runbook-runs/" + runId), timeout.Token);

        // The agent's output frames cut the value in three: no frame holds it whole.
        var cut1 = Password.Length / 3;
        var cut2 = 2 * Password.Length / 3;
        await agent.SendAsync(new TaskOutput(task.TaskId, 0, "stdout", "DB_PASSWORD=" + Password[..cut1]));
        await agent.SendAsync(new TaskOutput(task.TaskId, 1, "stdout", Password[cut1..cut2]));
        await agent.SendAsync(new TaskOutput(task.TaskId, 2, "stdout", Password[cut2..] + "\nDB_HOST=db-1\n"));
        await agent.SendAsync(WireAgent.Completed(task, 0));

        var live = new StringBuilder();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var message = await socket.ReceiveAsync(buffer, timeout.Token);
            if (message.MessageType == WebSocketMessageType.Close) break;
            var e = JsonSerializer.Deserialize(buffer.AsSpan(0, message.Count), MedicJson.Default.RunbookRunEvent)!;
            if (e.Type == "output") live.Append(e.Data);
            if (e.Type == "finished") break;
        }

        live.ToString().ShouldBe("DB_PASSWORD=[secret:db-password]\nDB_HOST=db-1\n");
    }

    [Fact]
    public async Task A_secret_in_a_message_url_or_condition_or_with_a_bad_name_is_refused_when_the_runbook_is_applied()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        const string Yaml = """
            name: leaky
            version: 1
            risk: low
            targets: {names: [web-1]}
            steps:
              - notify: 'the password is ${{ secrets.db-password }}'
              - http: {url: 'https://example.invalid/?key=${{ secrets.api-key }}'}
              - run: [echo, '${{ secrets.Bad_Name }}']
              - run: [echo, hi]
                when: "secrets.apikey == 'x'"
            """;
        using var applied = await server.Admin.PostAsync("/api/v1/runbooks", new StringContent(Yaml, Encoding.UTF8, "application/yaml"));
        var problem = await applied.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var problems = problem["problems"]!.AsArray().Select(p => (string)p!).ToList();
        problems.Count(p => p.Contains("a secret goes only into a whole value")).ShouldBe(2);
        problems.ShouldContain(p => p.Contains("'Bad_Name' is not a secret name"));
        problems.Count.ShouldBe(4);
    }
}
