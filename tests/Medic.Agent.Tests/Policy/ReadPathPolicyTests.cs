using Medic.Agent.Monitors;
using Medic.Agent.Policy;
using Medic.Contracts.Agent;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Policy;

/// <summary>One path rule, read_paths, for every file the agent reads for the control plane: log and file_age monitors and the file-tail verb.</summary>
public sealed class ReadPathPolicyTests : IDisposable
{
    private readonly string _allowed = Directory.CreateTempSubdirectory("medic-read-allowed-").FullName;
    private readonly string _outside = Directory.CreateTempSubdirectory("medic-read-outside-").FullName;

    public void Dispose()
    {
        Directory.Delete(_allowed, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    private AgentPolicy Policy => AgentPolicy.Parse($"exec: false\nread_paths:\n  - {_allowed}\n", "agent-policy.yaml");

    [Fact]
    public async Task A_log_monitor_on_a_symlink_out_of_read_paths_never_shows_a_line_of_the_file()
    {
        var secret = Path.Combine(_outside, "app.env");
        File.WriteAllText(secret, "");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var link = Path.Combine(_allowed, "app.log");
        File.CreateSymbolicLink(link, secret);
        using var check = new LogCheck(new MonitorDefinition { Name = "leak", Kind = MonitorKind.Log, Path = link, Pattern = "." }, TimeProvider.System, ReadPathPolicy.From(Policy));

        await check.CheckAsync(default);
        File.AppendAllText(secret, "STRIPE_SECRET=sk_live_123\n");
        var observation = await check.CheckAsync(default);

        observation.Verdict.ShouldBe(Verdict.Pass);
        observation.Evidence!.Keys.ShouldNotContain(EvidenceKeys.LastLines);
        string.Join("\n", observation.Evidence.Values).ShouldNotContain("sk_live_123");
        observation.Evidence["note"].ShouldContain("outside this node's read_paths");
    }

    [Fact]
    public async Task A_log_monitor_inside_read_paths_still_reads_its_file()
    {
        var log = Path.Combine(_allowed, "app.log");
        File.WriteAllText(log, "");
        using var check = new LogCheck(new MonitorDefinition { Name = "errors", Kind = MonitorKind.Log, Path = log, Pattern = "ERROR" }, TimeProvider.System, ReadPathPolicy.From(Policy));

        await check.CheckAsync(default);
        File.AppendAllText(log, "ERROR disk on fire\n");

        (await check.CheckAsync(default)).Evidence![EvidenceKeys.LastLines].ShouldBe("ERROR disk on fire");
    }

    [Fact]
    public async Task A_file_age_monitor_outside_read_paths_fails_without_looking()
    {
        var check = new FileAgeCheck(new MonitorDefinition { Name = "age", Kind = MonitorKind.FileAge, Path = _outside, MaxAgeSeconds = 60 }, TimeProvider.System, ReadPathPolicy.From(Policy));

        var observation = await check.CheckAsync(default);

        observation.Verdict.ShouldBe(Verdict.Fail);
        observation.Summary.ShouldContain("outside this node's read_paths");
        observation.Evidence!.Keys.ShouldNotContain("file");
    }

    [Fact]
    public async Task File_tail_obeys_read_paths_from_the_policy()
    {
        File.WriteAllText(Path.Combine(_outside, "other.log"), "not for you\n");
        File.WriteAllText(Path.Combine(_allowed, "app.log"), "hello\n");
        var executor = new PolicyTaskExecutor(Policy);
        async Task<(TaskResult Result, string Output)> Tail(string path)
        {
            var output = new System.Text.StringBuilder();
            var result = await executor.RunAsync(
                new TaskSpec("tsk_1", "nod_1", "n1", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1), TaskKind.Diag, [], "file-tail", new Dictionary<string, string> { ["path"] = path }, 30, 1024 * 1024),
                o => { output.Append(o.Data); return ValueTask.CompletedTask; }, CancellationToken.None);
            return (result, output.ToString());
        }

        var refused = await Tail(Path.Combine(_outside, "other.log"));
        refused.Result.Status.ShouldBe(TaskStatus.Failed);
        refused.Result.Reason!.ShouldContain("outside");
        refused.Output.ShouldNotContain("not for you");
        (await Tail(Path.Combine(_allowed, "app.log"))).Output.ShouldBe("hello\n");
    }

    [Fact]
    public void Without_read_paths_the_policy_allows_what_file_tail_always_allowed()
    {
        AgentPolicy.Parse("exec: false\n", "p").ReadPaths.ShouldBe(["/var/log", "/tmp"]);
        new ReadPathPolicy(AgentPolicy.DefaultReadPaths).Refusal("/var/log/syslog").ShouldBeNull();
        new ReadPathPolicy(AgentPolicy.DefaultReadPaths).Refusal("/var/log/../../etc/shadow")!.ShouldContain("resolves to '/etc/shadow'");
    }

    [Theory]
    [InlineData("read_paths:\n  - var/log\n", "not an absolute path")]
    [InlineData("read_paths:\n  - /var/log/../etc\n", "not an absolute path")]
    [InlineData("read_paths: /var/log\n", "takes a list")]
    public void Read_path_mistakes_name_the_line(string text, string message) =>
        Should.Throw<AgentException>(() => AgentPolicy.Parse(text, "p.yaml")).Message.ShouldContain(message);
}
