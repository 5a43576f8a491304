using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Medic.Contracts.Agent;

namespace Medic.Server.Gateway;

/// <summary>One connected agent: its socket, and a lock so frames from several senders never interleave.</summary>
internal sealed class AgentConnection(string nodeId, string tenantId, string name, WebSocket socket)
{
    private readonly SemaphoreSlim _send = new(1, 1);

    public string NodeId { get; } = nodeId;
    public string TenantId { get; } = tenantId;
    public string Name { get; } = name;
    public WebSocket Socket { get; } = socket;

    /// <summary>Set once the socket's receive loop has ended: nothing sent on it can be answered any more.</summary>
    internal volatile bool Ended;

    public async Task SendAsync(ServerMessage message, CancellationToken ct)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, AgentJson.Default.ServerMessage);
        await _send.WaitAsync(ct);
        try
        {
            await Socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct);
        }
        finally
        {
            _send.Release();
        }
    }
}

/// <summary>
/// The agents connected to this replica, and the tasks waiting for their output. A task's output
/// and result frames are delivered to the channel of its task id.
/// </summary>
internal sealed class AgentConnections
{
    private readonly ConcurrentDictionary<string, AgentConnection> _byNode = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (Channel<AgentMessage> Channel, AgentConnection Connection)> _tasks = new(StringComparer.Ordinal);

    public int Count => _byNode.Count;

    /// <summary>Connected agents per tenant id.</summary>
    public IReadOnlyDictionary<string, int> CountByTenant() =>
        _byNode.Values.GroupBy(c => c.TenantId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>Registers a connection; an older one for the same node (a reconnect racing a dead socket) is closed.</summary>
    public async Task RegisterAsync(AgentConnection connection)
    {
        AgentConnection? previous = null;
        _byNode.AddOrUpdate(connection.NodeId, connection, (_, old) => { previous = old; return connection; });
        if (previous is not null)
        {
            await CloseAsync(previous, "replaced by a newer connection from the same node");
        }
    }

    /// <summary>Removes the connection if it is still the registered one; returns whether it was.</summary>
    public bool Unregister(AgentConnection connection) =>
        _byNode.TryRemove(new KeyValuePair<string, AgentConnection>(connection.NodeId, connection));

    public bool TryGet(string nodeId, out AgentConnection connection) => _byNode.TryGetValue(nodeId, out connection!);

    public async Task DisconnectAsync(string nodeId, string reason)
    {
        if (_byNode.TryRemove(nodeId, out var connection))
        {
            await CloseAsync(connection, reason);
        }
    }

    /// <summary>
    /// Closes an agent's link because the server is stopping: the socket never ends on its own, so it
    /// would hold a graceful shutdown for its whole timeout. The agent reconnects to the next process.
    /// </summary>
    public static Task CloseForShutdownAsync(AgentConnection connection) =>
        CloseAsync(connection, "the control plane is shutting down", WebSocketCloseStatus.EndpointUnavailable);

    private static async Task CloseAsync(AgentConnection connection, string reason, WebSocketCloseStatus status = WebSocketCloseStatus.PolicyViolation)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            if (connection.Socket.State == WebSocketState.Open)
            {
                await connection.Socket.CloseOutputAsync(status, reason, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            connection.Socket.Abort();
        }
    }

    /// <summary>
    /// Opens the channel a task sent on <paramref name="connection"/> reports on; dispose the returned
    /// handle when done. The channel completes early if that connection ends first.
    /// </summary>
    public TaskSubscription Subscribe(string taskId, AgentConnection connection)
    {
        var channel = Channel.CreateBounded<AgentMessage>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        _tasks[taskId] = (channel, connection);
        if (connection.Ended) channel.Writer.TryComplete();
        return new TaskSubscription(this, taskId, channel.Reader);
    }

    /// <summary>
    /// Hands a task's frame to its waiting caller, only when it came from the node the task was sent
    /// to: another node that learns a task id cannot answer for it. Returns false for a frame that
    /// was dropped for that reason.
    /// </summary>
    internal async ValueTask<bool> DeliverAsync(AgentConnection from, string taskId, AgentMessage message, CancellationToken ct)
    {
        if (_tasks.TryGetValue(taskId, out var task))
        {
            if (!string.Equals(task.Connection.NodeId, from.NodeId, StringComparison.Ordinal)) return false;
            try
            {
                await task.Channel.Writer.WriteAsync(message, ct);
            }
            catch (ChannelClosedException)
            {
                // The task was ended because the connection it was sent on went away; its caller has its answer.
            }
        }

        return true;
    }

    /// <summary>Ends every task still waiting on a connection that went away, so no caller waits for a result that cannot come.</summary>
    internal void EndTasksOf(AgentConnection connection)
    {
        connection.Ended = true;
        foreach (var task in _tasks.Values)
        {
            if (ReferenceEquals(task.Connection, connection)) task.Channel.Writer.TryComplete();
        }
    }

    /// <summary>Forgets a task whose caller stopped waiting.</summary>
    internal void Complete(string taskId) => _tasks.TryRemove(taskId, out _);

    public sealed class TaskSubscription(AgentConnections owner, string taskId, ChannelReader<AgentMessage> reader) : IDisposable
    {
        public ChannelReader<AgentMessage> Reader { get; } = reader;

        public void Dispose() => owner.Complete(taskId);
    }
}
