using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Storage;
using Microsoft.Extensions.Options;

namespace Medic.Server.Gateway;

/// <summary>
/// <c>/agent/v1/connect</c>: one WebSocket per agent, authenticated by its node credential. The
/// agent sends hello (facts), heartbeats (metrics) and task output; the server sends tasks.
/// </summary>
internal static partial class AgentGateway
{
    public static IServiceCollection AddGateway(this IServiceCollection services)
    {
        services.AddSingleton<AgentConnections>();
        services.AddSingleton<TaskDispatcher>();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<IMetricInstruments>(sp => sp.GetRequiredService<GatewayMetrics>());
        services.AddSingleton<INodeLink, NodeLink>();
        services.AddHostedService<OfflineSweeper>();
        return services;
    }

    private const int MaxFrameBytes = 4 * 1024 * 1024;

    /// <summary>The event an agent sends when its policy refuses pushed monitors (Medic.Agent's MonitorHost.RefusedEventKind).</summary>
    internal const string MonitorsRefusedKind = "monitors.refused";

    public static IEndpointRouteBuilder MapAgentGateway(this IEndpointRouteBuilder app)
    {
        app.Map("/agent/v1/connect", ConnectAsync).AllowAnonymous().WithTags("Agent").ExcludeFromDescription();
        return app;
    }

    private static async Task ConnectAsync(HttpContext http, NodeStore nodes, AgentConnections connections, Database db, AuditLog audit,
        TimeProvider time, IOptions<MedicOptions> options, IAgentLinkListener listener, ILoggerFactory loggers, IHostApplicationLifetime lifetime)
    {
        var log = loggers.CreateLogger("Medic.Gateway");
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Problems.WriteAsync(http, StatusCodes.Status400BadRequest, "Not a WebSocket request", "This endpoint speaks the agent protocol over a WebSocket.", "run medic-agent, which connects here");
            return;
        }

        var header = http.Request.Headers.Authorization.ToString();
        var credential = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
        var node = credential.Length is > 0 and < 200 ? await nodes.FindByCredentialAsync(credential, http.RequestAborted) : null;
        if (node is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.WriteAsync(http, StatusCodes.Status401Unauthorized, "Unknown node credential",
                "The node credential is not known or the server was removed.", "enroll the agent again: medic-agent enroll --server URL --token T");
            return;
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var connection = new AgentConnection(node.Id, node.TenantId, node.Name, socket);
        await nodes.RecordSeenAsync(node.Id, time.GetUtcNow(), http.RequestAborted);
        await connections.RegisterAsync(connection);
        // Registered per connection, so one that arrives while the server is already stopping is closed at once too.
        using var stopping = lifetime.ApplicationStopping.Register(() => _ = AgentConnections.CloseForShutdownAsync(connection));
        LogConnected(log, node.Id, node.Name, http.Connection.RemoteIpAddress?.ToString());
        await SetStatusAsync(db, audit, node, NodeStatus.Online, "connected", http.Connection.RemoteIpAddress?.ToString(), time);
        var closeReason = "disconnected";
        try
        {
            await connection.SendAsync(new Welcome(node.Id, options.Value.Agents.HeartbeatSeconds), http.RequestAborted);
            listener.Connected(node.TenantId, node.Id);
            await ReceiveLoopAsync(connection, nodes, connections, listener, audit, time, log, http.RequestAborted);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or JsonException or InvalidDataException)
        {
            closeReason = ex is JsonException or InvalidDataException ? "protocol error: " + ex.Message : "connection lost";
            LogDropped(log, node.Id, closeReason);
        }
        finally
        {
            connections.EndTasksOf(connection);
            if (connections.Unregister(connection))
            {
                await SetStatusAsync(db, audit, node, NodeStatus.Offline, closeReason, http.Connection.RemoteIpAddress?.ToString(), time);
            }
        }
    }

    private static async Task ReceiveLoopAsync(AgentConnection connection, NodeStore nodes, AgentConnections connections, IAgentLinkListener listener, AuditLog audit, TimeProvider time, ILogger log, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        while (true)
        {
            buffer.ResetWrittenCount();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await connection.Socket.ReceiveAsync(buffer.GetMemory(16 * 1024), ct);
                buffer.Advance(result.Count);
                if (buffer.WrittenCount > MaxFrameBytes) throw new InvalidDataException($"a frame exceeded {MaxFrameBytes} bytes");
            }
            while (!result.EndOfMessage);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            var message = JsonSerializer.Deserialize(buffer.WrittenSpan, AgentJson.Default.AgentMessage)
                ?? throw new InvalidDataException("empty frame");
            var now = time.GetUtcNow();
            switch (message)
            {
                case Hello hello:
                    await nodes.RecordFactsAsync(connection.NodeId, hello.Facts, now, ct);
                    break;
                case Heartbeat heartbeat:
                    await nodes.RecordHeartbeatAsync(connection.NodeId, heartbeat.Metrics, now, ct);
                    break;
                case TaskOutput output:
                    if (!await connections.DeliverAsync(connection, output.TaskId, output, ct)) LogForeignTask(log, connection.NodeId, output.TaskId);
                    break;
                case TaskResult taskResult:
                    if (!await connections.DeliverAsync(connection, taskResult.TaskId, taskResult, ct)) LogForeignTask(log, connection.NodeId, taskResult.TaskId);
                    break;
                case AgentEvent ev:
                    LogAgentEvent(log, connection.NodeId, ev.Kind, ev.Message);
                    if (ev.Kind == MonitorsRefusedKind)
                    {
                        // The node's policy is the last word; the people who pushed the monitors read why in the audit log.
                        await audit.AppendAsync(new AuditRecord(connection.TenantId, "node:" + connection.NodeId, "monitor.refused", "server:" + connection.NodeId,
                            AuditOutcomes.Denied, null, ev.Data), CancellationToken.None);
                        break;
                    }

                    try
                    {
                        await listener.EventAsync(connection.TenantId, connection.NodeId, ev, ct);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // The link stays up; the agent already counts the event as delivered, so say which one was lost.
                        LogEventLost(log, ex, connection.NodeId, ev.Id, ev.Kind);
                    }

                    break;
            }
        }
    }

    /// <summary>Records an online/offline transition once, with its audit entry.</summary>
    internal static async Task SetStatusAsync(Database db, AuditLog audit, NodeRow node, NodeStatus status, string reason, string? address, TimeProvider time) =>
        await db.WriteAsync(async (c, tx) =>
        {
            if (await NodeStore.SetStatusAsync(c, tx, node.Id, status, time.GetUtcNow()))
            {
                await audit.AppendAsync(c, tx, new AuditRecord(node.TenantId, "system", "server." + status.ToText(), "server:" + node.Id, AuditOutcomes.Success, address,
                    new Dictionary<string, string> { ["name"] = node.Name, ["reason"] = reason }));
            }
        });
}

/// <summary>Marks online servers offline after three missed heartbeats, and drops their half-open sockets.</summary>
internal sealed class OfflineSweeper(NodeStore nodes, AgentConnections connections, Database db, AuditLog audit, TimeProvider time, IOptions<MedicOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var heartbeat = TimeSpan.FromSeconds(options.Value.Agents.HeartbeatSeconds);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Clamp(heartbeat.TotalSeconds / 3, 1, 5)), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var node in await nodes.SilentSinceAsync(time.GetUtcNow() - 3 * heartbeat, stoppingToken))
            {
                await AgentGateway.SetStatusAsync(db, audit, node, NodeStatus.Offline, "missed 3 heartbeats", null, time);
                await connections.DisconnectAsync(node.Id, "missed 3 heartbeats");
            }
        }
    }
}
