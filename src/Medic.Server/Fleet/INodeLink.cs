using Medic.Contracts;
using Medic.Contracts.Agent;

namespace Medic.Server.Fleet;

/// <summary>
/// How the fleet's own endpoints reach a server: run a task on it (through its agent, or ssh for an
/// agentless one) and drop its agent's link when it is removed. The gateway, which holds the links,
/// implements it, so the fleet does not depend on the gateway.
/// </summary>
internal interface INodeLink
{
    Task<TaskRunResponse> RunAsync(NodeRow node, TaskKind kind, IReadOnlyList<string> argv, string? verb, IReadOnlyDictionary<string, string>? args,
        int timeoutSeconds, Func<TaskOutput, ValueTask>? onOutput, CancellationToken ct);

    Task DisconnectAsync(string nodeId, string reason);
}
