using Medic.Agent.Host;
using Medic.Contracts.Agent;

namespace Medic.Agent;

/// <summary>This machine's facts and metrics, read from /proc, /etc and statvfs.</summary>
internal sealed class LocalHostProbe : IHostProbe
{
    private readonly MetricsSampler _sampler = new();

    public HostFacts ReadFacts() => HostFactsReader.Read(HostPaths.Default, AgentProgram.Version);

    public Metrics Sample(DateTimeOffset now) => _sampler.Sample(now);
}
