using System.Diagnostics;
using System.Net;
using System.Text;
using Medic.Contracts;
using Medic.Server.Tests.Audit;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Ai;

/// <summary>
/// The real agent (<c>medic agent enroll</c>, then <c>medic agent run</c> as a child process) on this
/// machine, enrolled in the admin's tenant under <see cref="Name"/>: diagnostic verbs reach it over
/// the real link and it runs them under its own policy.
/// </summary>
public sealed class McpRealAgent : IAsyncDisposable
{
    private readonly Process _process;
    private readonly MedicCli _cli;
    private readonly StringBuilder _output = new();

    private McpRealAgent(Process process, MedicCli cli, string name)
    {
        _process = process;
        _cli = cli;
        Name = name;
    }

    public string Name { get; }

    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Enrolls and starts the agent; <paramref name="policy"/>, when given, is its policy file's text (else the defaults: no exec).</summary>
    public static async Task<McpRealAgent> StartAsync(MedicServer server, string name, string? policy = null)
    {
        using var created = await server.Admin.PostAsync("/api/v1/enrollment-tokens", Json.Raw("{}"));
        var token = (await created.ReadAsync(MedicJson.Default.EnrollmentTokenCreatedResponse, HttpStatusCode.Created)).Secret;
        var cli = new MedicCli(server, server.AdminToken);
        var config = Path.Combine(cli.Home, name, "agent.json");
        var enroll = await cli.RunAsync("agent", "enroll", "--server", server.BaseAddress.ToString().TrimEnd('/'), "--token", token, "--name", name, "--config", config);
        enroll.ExitCode.ShouldBe(0, enroll.ToString());
        if (policy is not null) await File.WriteAllTextAsync(Path.Combine(Path.GetDirectoryName(config)!, "policy.yaml"), policy);

        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = cli.Home,
        };
        psi.ArgumentList.Add(MedicCli.Dll);
        foreach (var a in new[] { "agent", "run", "--config", config, "--policy", Path.Combine(Path.GetDirectoryName(config)!, "policy.yaml") }) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = cli.Home;
        psi.Environment["DOTNET_NOLOGO"] = "1";
        var agent = new McpRealAgent(Process.Start(psi)!, cli, name);
        agent._process.OutputDataReceived += (_, e) => agent.Append(e.Data);
        agent._process.ErrorDataReceived += (_, e) => agent.Append(e.Data);
        agent._process.BeginOutputReadLine();
        agent._process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (!agent.Output.Contains("medic-agent: connected to", StringComparison.Ordinal))
        {
            if (agent._process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                await agent.DisposeAsync();
                throw new ShouldAssertException("the agent did not connect within 30 s:\n" + agent.Output);
            }

            await Task.Delay(100);
        }

        return agent;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _cli.Dispose();
    }
}
