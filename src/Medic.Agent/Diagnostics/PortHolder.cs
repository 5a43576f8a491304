using System.Globalization;
using System.Text;

namespace Medic.Agent.Diagnostics;

/// <summary>Which process listens on a TCP port, with what a sysadmin needs to decide about it: owner, command line, service.</summary>
internal static class PortHolder
{
    public static DiagnosticVerb Verb { get; } = new()
    {
        Name = "port-holder",
        Description = "The process listening on a TCP port: pid, user, command, command line and systemd unit (from /proc).",
        Parameters = [VerbParameter.Port()],
        Run = run =>
        {
            var (text, findings) = Describe(run.Arguments.Integer("port"));
            return run.ReportAsync(text, findings);
        },
    };

    internal static (string Text, Findings Findings) Describe(int port)
    {
        var findings = new Findings().Add("port", port);
        var sockets = ListeningPorts.FromProcWithPids().Where(l => l.Listener.Port == port).ToList();
        var text = new StringBuilder();
        if (sockets.Count == 0)
        {
            text.AppendLine($"nothing listens on TCP port {port}.");
            return (text.ToString(), findings.Add("holder", "none"));
        }
        var holders = sockets.SelectMany(s => s.Pids).Distinct().Select(pid => ProcessFacts.Read(pid)).OfType<ProcessFacts>().ToList();
        text.AppendLine($"TCP port {port} is held by {(holders.Count == 0 ? "a process this agent cannot see (another user's, or in another namespace)" : $"{holders.Count} process{(holders.Count == 1 ? "" : "es")}")}:");
        foreach (var socket in sockets)
        {
            text.AppendLine($"  listening on {new System.Net.IPEndPoint(socket.Listener.Address, port)}");
        }
        foreach (var p in holders)
        {
            text.AppendLine($"  pid {p.Pid}  user {p.User}  command {p.Command}  unit {p.Unit ?? "-"}  cwd {p.WorkingDirectory ?? "-"}");
            text.AppendLine($"      {p.CommandLine}");
        }
        if (holders.Count == 0)
        {
            return (text.ToString(), findings.Add("holder", "unknown"));
        }
        // Workers inherit their master's listening socket: the one to name is the eldest holder.
        var pids = holders.Select(h => h.Pid).ToHashSet();
        var main = holders.Where(h => !pids.Contains(h.ParentPid)).OrderBy(h => h.Pid).First();
        return (text.ToString(), findings
            .Add("holder", main.Unit is null ? "process" : "unit")
            .Add("pid", main.Pid)
            .Add("process", main.Command)
            .Add("user", main.User)
            .Add("unit", main.Unit)
            .Add("cmdline", main.CommandLine)
            .Add("cwd", main.WorkingDirectory)
            .Add("holders", holders.Count));
    }
}
