using System.CommandLine;
using Medic.Cli;
using Medic.Cli.Commands;
using Medic.Server.Common;

return await MedicCli.RunAsync(args);

namespace Medic.Cli
{
    public static class MedicCli
    {
        public static string Version { get; } = typeof(MedicCli).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

        public static async Task<int> RunAsync(string[] args)
        {
            var root = new RootCommand("Medic keeps a fleet of Linux servers healthy. 'medic up' runs it on this machine.");
            root.Options.Add(Shared.ContextOption);
            root.Subcommands.Add(HostCommands.Up());
            root.Subcommands.Add(HostCommands.Server());
            foreach (var command in SessionCommands.All()) root.Subcommands.Add(command);
            root.Subcommands.Add(AdminCommands.Tenants());
            root.Subcommands.Add(AdminCommands.Users());
            root.Subcommands.Add(AdminCommands.Tokens());
            root.Subcommands.Add(AuditCommands.Audit());
            root.Subcommands.Add(FleetCommands.EnrollToken());
            root.Subcommands.Add(FleetCommands.Servers());
            root.Subcommands.Add(FleetCommands.Diag());
            root.Subcommands.Add(FleetCommands.Service());
            root.Subcommands.Add(ExecCommand.Create());
            root.Subcommands.Add(IncidentCommands.Incidents());
            root.Subcommands.Add(CheckCommands.Checks());
            root.Subcommands.Add(MonitorCommands.Monitors());
            root.Subcommands.Add(WebhookCommands.Webhooks());
            root.Subcommands.Add(SilenceCommands.Silences());
            root.Subcommands.Add(NotifyCommands.Notify());
            root.Subcommands.Add(RunbookCommands.Runbook());
            root.Subcommands.Add(SecretCommands.Secrets());
            root.Subcommands.Add(PipelineCommands.Approvals());
            root.Subcommands.Add(PipelineCommands.Approve());
            root.Subcommands.Add(PipelineCommands.Reject());
            root.Subcommands.Add(PipelineCommands.Pipeline());
            root.Subcommands.Add(AiCommands.Ai());
            root.Subcommands.Add(AskCommand.Create());
            root.Subcommands.Add(McpCommands.Mcp());
            root.Subcommands.Add(AgentCommand());
            root.Subcommands.Add(WatchCommand.Create());
            root.Subcommands.Add(DoctorCommand.Create());
            root.Subcommands.Add(BackupCommands.Backup());
            root.Subcommands.Add(BackupCommands.Restore());

            root.Subcommands.Add(VersionCommand());

            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                var (cause, remedy) = UsageErrors.Describe(parse, root);
                Shared.PrintError(cause, remedy);
                return ExitCodes.Usage;
            }

            try
            {
                return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
            }
            catch (CliException ex)
            {
                Shared.PrintError(ex.Message, ex.Remedy);
                return ex.ExitCode;
            }
            catch (ConfigException ex)
            {
                Shared.PrintError(ex.Message, ex.Remedy);
                return ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Shared.PrintError($"unexpected {ex.GetType().Name}: {ex.Message}", "this is a bug in medic; run again with the same arguments and report both lines");
                return ExitCodes.Internal;
            }
        }

        /// <summary><c>medic agent ...</c> is <c>medic-agent ...</c>: the same code, for machines that have the CLI.</summary>
        private static Command AgentCommand()
        {
            var command = new Command("agent", "Run the agent on this machine: medic agent enroll|run|version (same as medic-agent)")
            {
                TreatUnmatchedTokensAsErrors = false,
            };
            command.SetAction(parse => Medic.Agent.AgentProgram.RunAsync([.. parse.UnmatchedTokens]));
            return command;
        }

        /// <summary><c>medic version</c>: this CLI's version, and with --json a line a script can read.</summary>
        private static Command VersionCommand()
        {
            var json = Shared.JsonOption();
            var command = new Command("version", "Print the version of this medic CLI") { json };
            command.SetAction(parse =>
            {
                Console.Out.WriteLine(parse.GetValue(json) ? $"{{\"version\":\"{Version}\"}}" : "medic " + Version);
                return ExitCodes.Ok;
            });
            return command;
        }
    }
}
