using System.CommandLine;
using System.Runtime.InteropServices;
using Medic.Agent;
using Medic.Agent.Watch;

namespace Medic.Cli.Commands;

/// <summary><c>medic watch -f watch.yaml</c>: monitors and self-healing on this machine, with no control plane (docs/watch.md).</summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        var file = new Option<string>("--file", "-f") { Description = "The watch file (docs/watch.md)", Required = true };
        var check = new Option<bool>("--check") { Description = "Only check the file and print what it would watch" };
        var command = new Command("watch", "Watch and heal processes on this machine with no control plane: monitors, restarts, reports, notifications") { file, check };
        command.SetAction(async (parse, _) =>
        {
            var path = parse.GetValue(file)!;
            try
            {
                if (parse.GetValue(check)) return WatchHost.Check(path, Console.Out);
                using var stop = new CancellationTokenSource();
                using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
                using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
                return await WatchHost.RunAsync(path, Console.Out, Watch.WatchModelDiagnosis.Create, stop.Token);
            }
            catch (AgentException ex)
            {
                throw new CliException(ex.Message, ex.Remedy);
            }
        });
        return command;
    }
}
