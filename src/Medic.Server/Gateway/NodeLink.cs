using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Fleet;

namespace Medic.Server.Gateway;

/// <summary>The fleet's way to a server: tasks through the dispatcher, disconnection through the agent links.</summary>
internal sealed class NodeLink(TaskDispatcher dispatcher, AgentConnections connections) : INodeLink
{
    public Task<TaskRunResponse> RunAsync(NodeRow node, TaskKind kind, IReadOnlyList<string> argv, string? verb, IReadOnlyDictionary<string, string>? args,
        int timeoutSeconds, Func<TaskOutput, ValueTask>? onOutput, CancellationToken ct) =>
        dispatcher.RunAsync(node, kind, argv, verb, args, timeoutSeconds, onOutput, ct);

    public Task DisconnectAsync(string nodeId, string reason) => connections.DisconnectAsync(nodeId, reason);
}
