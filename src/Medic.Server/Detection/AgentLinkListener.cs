using Medic.Contracts.Agent;
using Medic.Server.Detection.Monitors;
using Medic.Server.Gateway;
using Medic.Server.Incidents;

namespace Medic.Server.Detection;

/// <summary>An agent that connects gets its pushed monitors; the events of its own monitors become incidents.</summary>
internal sealed class AgentLinkListener(MonitorPusher monitors, IIncidentIngest incidents) : IAgentLinkListener
{
    public void Connected(string tenantId, string nodeId) => monitors.PushOnConnect(tenantId, nodeId);

    public async Task EventAsync(string tenantId, string nodeId, AgentEvent ev, CancellationToken ct)
    {
        if (AgentSignals.From(tenantId, nodeId, ev) is { } signal)
        {
            await incidents.IngestAsync([signal], ct);
        }
    }
}
