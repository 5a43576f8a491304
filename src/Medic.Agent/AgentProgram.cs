using Medic.Agent.Monitors;
using Medic.Agent.Policy;
using Medic.Contracts;

namespace Medic.Agent;

/// <summary>Entry point shared by the <c>medic-agent</c> executable and <c>medic agent</c>.</summary>
public static class AgentProgram
{
    public static string Version { get; } = typeof(AgentProgram).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    private const string Usage = """
        usage:
          medic-agent enroll --server URL --token TOKEN [--name NAME] [--tags k=v,...] [--config PATH]
          medic-agent run [--config PATH] [--policy PATH] [--monitors PATH] [--state-dir PATH]
          medic-agent version (or --version)
        config default: /etc/medic/agent.json (or MEDIC_AGENT_CONFIG); policy default: /etc/medic/agent-policy.yaml
        monitors default: monitors.yaml beside the config file, if present; state dir default: /var/lib/medic-agent
        (for the default config) or agent-state beside the config file
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
            {
                Console.Out.WriteLine(Usage);
                return args.Length == 0 ? 2 : 0;
            }

            var options = ParseOptions(args.AsSpan(1));
            switch (args[0])
            {
                case "version" or "--version":
                    Console.Out.WriteLine("medic-agent " + Version);
                    return 0;
                case "enroll":
                    return await EnrollAsync(options);
                case "run":
                    using (var stop = new CancellationTokenSource())
                    {
                        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
                        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
                        using var sighup = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGHUP, c => { c.Cancel = true; ReloadRequested?.Invoke(); });
                        await RunDaemonAsync(AgentConfig.PathFrom(options.GetValueOrDefault("config")), options.GetValueOrDefault("policy"), options.GetValueOrDefault("monitors"), options.GetValueOrDefault("state-dir"), stop.Token);
                        Console.Out.WriteLine("medic-agent: stopped");
                        return 0;
                    }

                default:
                    throw new AgentException($"unknown command '{args[0]}'", "run medic-agent --help");
            }
        }
        catch (AgentException ex)
        {
            Console.Error.WriteLine("error: " + ex.Message);
            Console.Error.WriteLine("hint: " + ex.Remedy);
            return 2;
        }
    }

    /// <summary>Raised on SIGHUP: the running daemon reads its policy file again.</summary>
    internal static event Action? ReloadRequested;

    /// <summary>Runs the daemon until <paramref name="ct"/> is cancelled.</summary>
    public static Task RunDaemonAsync(string configPath, string? policyPath, CancellationToken ct) =>
        RunDaemonAsync(configPath, policyPath, null, null, ct);

    /// <summary>
    /// Runs the daemon and the local monitors until <paramref name="ct"/> is cancelled. Monitor
    /// events go to the spool in the state directory and from there to the control plane, so
    /// monitoring and healing go on while the link is down.
    /// </summary>
    public static async Task RunDaemonAsync(string configPath, string? policyPath, string? monitorsPath, string? stateDir, CancellationToken ct)
    {
        var config = AgentConfig.Load(configPath);
        var policy = AgentPolicy.Load(policyPath);
        var configDir = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        var beside = Path.Combine(configDir, "monitors.yaml");
        var monitors = monitorsPath is not null ? MonitorFile.Load(monitorsPath)
            : File.Exists(beside) ? MonitorFile.Load(monitorsPath = beside)
            : [];
        stateDir ??= Path.GetFullPath(configPath) == AgentConfig.DefaultPath ? DefaultStateDir : Path.Combine(configDir, "agent-state");
        Console.Out.WriteLine($"medic-agent {Version}: node {config.Name} ({config.NodeId}); policy: {Describe(policy)}; monitors: {(monitors.Count == 0 ? "none" : $"{monitors.Count} from {monitorsPath}")}");
        EventSpool? spool = null;
        try
        {
            PrivateFiles.EnsureDirectory(stateDir);
            spool = new EventSpool(stateDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (monitors.Count > 0) throw new AgentException($"cannot use the state directory {stateDir}: {e.Message}", "run as a user that may write there, or pass --state-dir PATH");
            Console.Out.WriteLine($"medic-agent: no state directory ({stateDir}: {e.Message}); monitors from the control plane are refused");
        }

        if (spool is { Count: > 0 }) Console.Out.WriteLine($"medic-agent: {spool.Count} event(s) from before wait in {spool.FilePath}");
        var host = spool is null ? null
            : new MonitorHost(monitors, stateDir, policy, new SpoolMonitorEvents(spool), TimeProvider.System, line => Console.Out.WriteLine("medic-agent: monitor " + line), spool.Append);
        var executor = new PolicyTaskExecutor(policy, host);
        void Reload()
        {
            try
            {
                var reloaded = AgentPolicy.Load(policyPath);
                executor.Policy = reloaded;
                host?.Reload(reloaded);
                Console.Out.WriteLine($"medic-agent: policy reloaded: {Describe(reloaded)}");
            }
            catch (Exception e) when (e is AgentException or IOException or UnauthorizedAccessException)
            {
                Console.Out.WriteLine($"medic-agent: policy not reloaded, the old one stays in force: {e.Message}");
            }

            if (host is null || monitorsPath is null) return;
            try
            {
                host.ReloadLocal(MonitorFile.Load(monitorsPath));
            }
            catch (Exception e) when (e is AgentException or IOException or UnauthorizedAccessException)
            {
                Console.Out.WriteLine($"medic-agent: {monitorsPath} not reloaded, the monitors from before keep running: {e.Message}");
            }
        }

        ReloadRequested += Reload;
        try
        {
            if (host is null)
            {
                await new AgentDaemon(config, new LocalHostProbe(), executor, TimeProvider.System, Console.Out).RunAsync(ct);
                return;
            }

            if (host.Pushed.Count > 0) Console.Out.WriteLine($"medic-agent: {host.Pushed.Count} monitor(s) set by the control plane");
            var daemon = new AgentDaemon(config, new LocalHostProbe(), executor, TimeProvider.System, Console.Out, spool);
            await Task.WhenAll(daemon.RunAsync(ct), host.RunAsync(ct));
        }
        finally
        {
            ReloadRequested -= Reload;
        }
    }

    private static string Describe(AgentPolicy policy) =>
        $"diag={policy.Diag} service={policy.Service} exec={policy.Exec}{(policy.ExecAllow.Count > 0 ? $" (only the {policy.ExecAllow.Count} exec_allow command(s))" : "")} reboot={policy.Reboot} read_paths={string.Join(",", policy.ReadPaths)}";

    public const string DefaultStateDir = "/var/lib/medic-agent";

    private static async Task<int> EnrollAsync(Dictionary<string, string> options)
    {
        var server = options.GetValueOrDefault("server") ?? throw new AgentException("--server is required", "pass the control plane's URL: --server https://medic.example.com");
        var token = options.GetValueOrDefault("token") ?? throw new AgentException("--token is required", "create one on the control plane: medic enroll-token create");
        var path = AgentConfig.PathFrom(options.GetValueOrDefault("config"));
        var facts = new LocalHostProbe().ReadFacts();
        var name = options.GetValueOrDefault("name") ?? facts.Hostname;
        var config = await Enrollment.EnrollAsync(server, token, name, Enrollment.ParseTags(options.GetValueOrDefault("tags")), facts, CancellationToken.None);
        config.Save(path);
        Console.Out.WriteLine($"Enrolled as {config.Name} ({config.NodeId}) in tenant {config.Tenant}; credential saved to {path} (mode 0600).");
        Console.Out.WriteLine($"Start the agent with: medic-agent run --config {path}");
        return 0;
    }

    private static Dictionary<string, string> ParseOptions(ReadOnlySpan<string> args)
    {
        string[] known = ["server", "token", "name", "tags", "config", "policy", "monitors", "state-dir"];
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new AgentException($"unexpected argument '{arg}'", "run medic-agent --help");
            }

            var name = arg[2..];
            string value;
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (i + 1 < args.Length)
            {
                value = args[++i];
            }
            else
            {
                throw new AgentException($"--{name} needs a value", "run medic-agent --help");
            }

            if (!known.Contains(name)) throw new AgentException($"unknown option --{name}", "run medic-agent --help");
            options[name] = value;
        }

        return options;
    }
}
