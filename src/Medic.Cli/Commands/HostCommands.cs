using System.CommandLine;
using Medic.Server.Common;
using Medic.Server.Hosting;
using Medic.Server.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Medic.Cli.Commands;

/// <summary><c>medic up</c> (everything on this machine, no setup) and <c>medic server</c> (production, from a config file).</summary>
internal static class HostCommands
{
    public const string LocalContext = "local";

    public static Command Up()
    {
        var listen = new Option<string?>("--listen") { Description = $"URL to serve on (default {MedicOptions.DefaultListen}; loopback only unless you change it)" };
        var data = new Option<string?>("--data") { Description = "Data directory (default ~/.medic)" };
        var command = new Command("up", "Run Medic on this machine: control plane on SQLite, first admin, CLI logged in") { listen, data };
        command.SetAction(async (parse, ct) =>
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            var options = ConfigLoader.Load(null, Path.Combine(home, ".medic"), ConfigLoader.ProcessEnvironment(),
                o => Apply(o, parse.GetValue(listen), parse.GetValue(data)));
            return await RunAsync(options, writeLocalContext: true);
        });
        return command;
    }

    public static Command Server()
    {
        var config = new Option<string?>("--config") { Description = "YAML or JSON config file (default: MEDIC_CONFIG)" };
        var listen = new Option<string?>("--listen") { Description = "URL(s) to serve on, separated by ';'" };
        var data = new Option<string?>("--data") { Description = "Data directory (default /var/lib/medic)" };
        var command = new Command("server", "Run the control plane from a config file (production)") { config, listen, data };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(config) ?? Environment.GetEnvironmentVariable("MEDIC_CONFIG");
            var options = ConfigLoader.Load(string.IsNullOrWhiteSpace(file) ? null : file, "/var/lib/medic", ConfigLoader.ProcessEnvironment(),
                o => Apply(o, parse.GetValue(listen), parse.GetValue(data)));
            return await RunAsync(options, writeLocalContext: false);
        });
        return command;
    }

    private static void Apply(MedicOptions options, string? listen, string? data)
    {
        if (listen is not null) options.Listen = listen;
        if (data is not null) options.DataDir = data;
    }

    private static async Task<int> RunAsync(MedicOptions options, bool writeLocalContext)
    {
        await using var app = MedicApp.Build(options);
        var db = app.Services.GetRequiredService<Database>();
        try
        {
            await MedicApp.PrepareAsync(app.Services);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new CliException($"cannot open the database {db.Display}: {ex.Message}", "check the 'database' setting (docs/configuration.md) and that the database server runs", ExitCodes.Unreachable);
        }

        try
        {
            await app.StartAsync();
        }
        catch (IOException ex)
        {
            throw new CliException($"cannot listen on {options.Listen}: {ex.Message}", "stop whatever uses that port, or choose another with --listen http://127.0.0.1:PORT");
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot start serving on {options.Listen}: {ex.Message}", "check the listen address (docs/configuration.md)");
        }

        // Only once the address is bound: a first start that cannot listen must not create an admin whose password nobody saw.
        var bootstrap = app.Services.GetRequiredService<Bootstrap>();
        var first = await bootstrap.EnsureFirstAdminAsync(Environment.GetEnvironmentVariable("MEDIC_ADMIN_PASSWORD"));

        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("[::]", "localhost", StringComparison.Ordinal);
        var lines = new List<string>
        {
            $"Medic {HealthApi.Version} is running.",
            $"  Console and API:  {url}",
            $"  Data directory:   {options.DataDir}",
            $"  Database:         {db.Display}",
        };
        if (first.Created)
        {
            lines.Add("");
            lines.Add(first.GeneratedPassword is not null
                ? $"  First run: sign in as '{first.AdminUsername}' with password {first.GeneratedPassword}"
                : $"  First run: sign in as '{first.AdminUsername}' with the password from MEDIC_ADMIN_PASSWORD");
            if (first.GeneratedPassword is not null) lines.Add("  (shown once: only its hash is stored)");
        }

        lines.Add($"  Console sign-in:  {url}/login");
        Task? localAgent = null;
        using var stopAgent = new CancellationTokenSource();
        if (writeLocalContext)
        {
            lines.Add(await LogInLocalCliAsync(bootstrap, url));
            var (line, start) = await PrepareLocalAgentAsync(bootstrap, options.DataDir, url);
            lines.Add(line);
            localAgent = start?.Invoke(stopAgent.Token);
        }
        else
        {
            lines.Add($"  CLI sign-in:      medic login --server {url} --user {first.AdminUsername}");
        }

        lines.Add("  Stop with Ctrl-C.");
        Console.Out.WriteLine(string.Join(Environment.NewLine, lines));
        Console.Out.Flush();

        await app.WaitForShutdownAsync();
        if (localAgent is not null)
        {
            await stopAgent.CancelAsync();
            await localAgent.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        Console.Out.WriteLine("Medic stopped.");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Enrolls this machine's agent on first run (a one-use token, through the real enrollment
    /// endpoint), writes its policy with <c>exec</c> granted, and returns how to start it in-process.
    /// </summary>
    private static async Task<(string Line, Func<CancellationToken, Task>? Start)> PrepareLocalAgentAsync(Bootstrap bootstrap, string dataDir, string url)
    {
        var configPath = Path.Combine(dataDir, "agent.json");
        var policyPath = Path.Combine(dataDir, "agent-policy.yaml");
        try
        {
            if (!File.Exists(configPath))
            {
                var token = await bootstrap.IssueLocalEnrollmentTokenAsync();
                var facts = new Medic.Agent.LocalHostProbe().ReadFacts();
                var config = await Medic.Agent.Enrollment.EnrollAsync(url, token, facts.Hostname, new Dictionary<string, string>(), facts, CancellationToken.None);
                config.Save(configPath);
            }

            if (!File.Exists(policyPath))
            {
                await File.WriteAllTextAsync(policyPath, """
                    # Policy of the agent that 'medic up' runs for this machine. See docs/agent.md.
                    # exec is granted because you run Medic on this machine yourself; set it to false to forbid
                    # arbitrary commands from the control plane.
                    diag: true
                    service: true
                    exec: true
                    reboot: false

                    """);
            }

            var name = Medic.Agent.AgentConfig.Load(configPath).Name;
            var exec = Medic.Agent.Policy.AgentPolicy.Load(policyPath).Exec;
            return ($"  Agent:            this machine is server '{name}'{(exec ? $"; exec is granted by {policyPath}" : "")}",
                ct => Task.Run(() => Medic.Agent.AgentProgram.RunDaemonAsync(configPath, policyPath, ct), CancellationToken.None));
        }
        catch (Exception ex) when (ex is Medic.Agent.AgentException or ConfigException or IOException)
        {
            return ($"  Agent:            not started ({ex.Message})", null);
        }
    }

    /// <summary>Points the CLI's <c>local</c> context at this server, issuing a fresh token only when the saved one no longer works.</summary>
    private static async Task<string> LogInLocalCliAsync(Bootstrap bootstrap, string url)
    {
        var path = CliConfig.DefaultPath();
        try
        {
            var config = CliConfig.Load(path);
            if (!(config.Contexts.TryGetValue(LocalContext, out var existing) && existing.Server == url
                  && await bootstrap.TokenWorksAsync(existing.Token, TimeProvider.System)))
            {
                var issued = await bootstrap.IssueLocalTokenAsync();
                config.Contexts[LocalContext] = new CliContext
                {
                    Server = url, Token = issued.Secret, User = issued.Token.Username, Tenant = Medic.Server.Tenancy.TenantStore.DefaultSlug, TokenId = issued.Token.Id,
                };
            }

            var switched = config.CurrentContext is null || config.CurrentContext == LocalContext;
            if (switched) config.CurrentContext = LocalContext;
            config.Save(path);
            // ./medic runs the CLI as 'dotnet medic.dll' and names itself, so the hint is a command that works as printed.
            var cli = Environment.GetEnvironmentVariable("MEDIC_CLI_COMMAND") is { Length: > 0 } launcher ? launcher
                : Environment.ProcessPath is { } exe && !exe.EndsWith("/dotnet", StringComparison.Ordinal) ? exe : "medic";
            return switched
                ? $"  CLI:              logged in as context '{LocalContext}'; try: {cli} whoami"
                : $"  CLI:              context '{LocalContext}' saved; switch with: {cli} context use {LocalContext}";
        }
        catch (Exception ex) when (ex is CliException or ConfigException or IOException or UnauthorizedAccessException)
        {
            return $"  CLI:              not logged in ({ex.Message}); run: medic login --server {url}";
        }
    }
}
