using Medic.Contracts.Agent;

namespace Medic.Server.Gateway;

/// <summary>
/// What the rest of the control plane does when an agent connects or reports an event. The gateway
/// only carries frames; detection (pushed monitors, incidents from the agent's own monitors) lives
/// above it and implements this.
/// </summary>
internal interface IAgentLinkListener
{
    /// <summary>The agent's link is up: the moment to send it what it should run.</summary>
    void Connected(string tenantId, string nodeId);

    /// <summary>An event the agent reported; an exception means it was lost, and the gateway logs which.</summary>
    Task EventAsync(string tenantId, string nodeId, AgentEvent ev, CancellationToken ct);
}
