using Medic.Server.Fleet;

namespace Medic.Server.Incidents;

/// <summary>The names an alert gives for its machine, to look the server up by.</summary>
internal static class ServerNames
{
    /// <summary>Labels that name the machine an alert is about, in the order they are believed.</summary>
    public static readonly IReadOnlyList<string> HostLabels = ["instance", "nodename", "host", "hostname", "node", "server"];

    /// <summary>Every name the signal gives for its machine: the hint first, then the host labels, each as <see cref="HostHints.Candidates"/>.</summary>
    public static IReadOnlyList<string> Of(IncidentSignal s)
    {
        var names = new List<string>(HostHints.Candidates(s.ServerHint));
        foreach (var label in HostLabels)
        {
            if (s.Labels.TryGetValue(label, out var value)) names.AddRange(HostHints.Candidates(value));
        }

        return names.Distinct(StringComparer.Ordinal).Take(12).ToList();
    }
}
