using System.Buffers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using Medic.Contracts.Agent;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent;

/// <summary>Reads what the host is and how it is doing.</summary>
public interface IHostProbe
{
    HostFacts ReadFacts();

    Metrics Sample(DateTimeOffset now);
}

/// <summary>Runs a verified task under the local policy, streaming its output.</summary>
public interface ITaskExecutor
{
    Task<TaskResult> RunAsync(TaskSpec task, Func<TaskOutput, ValueTask> onOutput, CancellationToken ct);
}

/// <summary>
/// The agent's link to the control plane: one outbound WebSocket, reconnected with jittered
/// exponential backoff (capped at 60 s). Sends hello and heartbeats; verifies, de-duplicates and
/// runs the tasks it is sent, and reports every refusal with its reason. Events the monitors put in
/// the <paramref name="spool"/> are sent once connected and as they come, then removed.
/// </summary>
public sealed class AgentDaemon(AgentConfig config, IHostProbe probe, ITaskExecutor executor, TimeProvider time, TextWriter log, Monitors.EventSpool? spool = null)
{
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);
    private readonly ECDsa _pinnedKey = TaskSigning.ImportPublicKey(config.SigningPublicKey);
    private readonly NonceMemory _seen = new();

    /// <summary>Consecutive failed connection attempts; reset by a successful connect.</summary>
    public int Failures { get; private set; }

    public static TimeSpan Backoff(int failures, double jitter) =>
        TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, Math.Min(failures, 10))) * (0.5 + (jitter / 2)));

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await ConnectOnceAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or JsonException or InvalidDataException or OperationCanceledException)
            {
                Failures++;
                var delay = Backoff(Failures, Random.Shared.NextDouble());
                await log.WriteLineAsync($"medic-agent: link to {config.Server} failed ({Describe(ex)}); retrying in {delay.TotalSeconds:0.0} s");
                try
                {
                    await Task.Delay(delay, time, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static string Describe(Exception ex) =>
        ex is WebSocketException { InnerException: not null } w ? w.InnerException!.Message : ex.Message;

    private async Task ConnectOnceAsync(CancellationToken ct)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + config.Credential);
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        socket.Options.CollectHttpResponseDetails = true;
        var url = new Uri(new Uri(config.Server.Replace("http://", "ws://", StringComparison.OrdinalIgnoreCase).Replace("https://", "wss://", StringComparison.OrdinalIgnoreCase)), "/agent/v1/connect");
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            connectTimeout.CancelAfter(TimeSpan.FromSeconds(30));
            try
            {
                await socket.ConnectAsync(url, connectTimeout.Token);
            }
            catch (WebSocketException) when (socket.HttpStatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                throw new WebSocketException("the control plane does not know this node's credential (removed?); enroll again");
            }
        }

        Failures = 0;
        var sendLock = new SemaphoreSlim(1, 1);
        async Task Send(AgentMessage message)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(message, AgentJson.Default.AgentMessage);
            await sendLock.WaitAsync(ct);
            try
            {
                await socket.SendAsync(bytes, WebSocketMessageType.Text, true, ct);
            }
            finally
            {
                sendLock.Release();
            }
        }

        await Send(new Hello(probe.ReadFacts()));
        await log.WriteLineAsync($"medic-agent: connected to {config.Server} as {config.Name} ({config.NodeId})");

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var heartbeatSeconds = 15;
        Task? heartbeats = null;
        Task? drain = null;
        var running = new List<Task>();
        try
        {
            var buffer = new ArrayBufferWriter<byte>(16 * 1024);
            while (true)
            {
                buffer.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.GetMemory(16 * 1024), linked.Token);
                    buffer.Advance(result.Count);
                    if (buffer.WrittenCount > 4 * 1024 * 1024) throw new InvalidDataException("a frame from the control plane exceeded 4 MiB");
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new WebSocketException("the control plane closed the link: " + socket.CloseStatusDescription);
                }

                switch (JsonSerializer.Deserialize(buffer.WrittenSpan, AgentJson.Default.ServerMessage))
                {
                    case Welcome welcome:
                        heartbeatSeconds = welcome.HeartbeatSeconds;
                        heartbeats ??= HeartbeatLoopAsync(Send, TimeSpan.FromSeconds(heartbeatSeconds), linked.Token);
                        if (spool is not null) drain ??= DrainSpoolAsync(spool, Send, linked.Token);
                        break;
                    case TaskOffer offer:
                        running.RemoveAll(t => t.IsCompleted);
                        running.Add(HandleTaskAsync(offer.Task, Send, linked.Token, offer.TaskId));
                        break;
                }
            }
        }
        finally
        {
            await linked.CancelAsync();
            try
            {
                await Task.WhenAll([.. running, heartbeats ?? Task.CompletedTask, drain ?? Task.CompletedTask]).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or TimeoutException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task HeartbeatLoopAsync(Func<AgentMessage, Task> send, TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval, time);
        await send(new Heartbeat(probe.Sample(time.GetUtcNow())));
        while (await timer.WaitForNextTickAsync(ct))
        {
            await send(new Heartbeat(probe.Sample(time.GetUtcNow())));
        }
    }

    /// <summary>
    /// Sends what the spool holds, oldest first, removing each event only once it was sent (at least
    /// once: a link that breaks mid-send leaves it for the next connection), then waits for more.
    /// A count of events dropped while the spool was full goes out as one <c>events.dropped</c> event.
    /// </summary>
    internal async Task DrainSpoolAsync(Monitors.EventSpool events, Func<AgentMessage, Task> send, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var appended = events.WaitForAppendAsync(ct);
            if (events.Dropped is > 0 and var dropped)
            {
                await send(new AgentEvent(Monitors.EventSpool.NewId(), time.GetUtcNow(), "events.dropped",
                    $"{dropped} monitor events were dropped while the agent's event spool was full",
                    new Dictionary<string, string> { ["count"] = dropped.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
                events.AcknowledgeDropped(dropped);
            }

            while (events.Peek(1) is [var next])
            {
                await send(next);
                events.Remove(next.Id);
            }

            try
            {
                await appended.WaitAsync(TimeSpan.FromSeconds(30), time, ct);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>
    /// Verifies, then runs. A refused task is answered with its reason, so the refusal is visible on
    /// the control plane; one whose payload cannot be trusted is answered under the id it was offered with.
    /// </summary>
    internal async Task HandleTaskAsync(SignedTask signed, Func<AgentMessage, Task> send, CancellationToken ct, string? offeredTaskId = null)
    {
        var now = time.GetUtcNow();
        var (spec, refusal) = TaskSigning.Verify(_pinnedKey, signed, config.NodeId, now, ClockSkew);
        if (refusal is null && !_seen.TryRemember(spec!.Nonce, spec.ExpiresAt + ClockSkew, now))
        {
            refusal = $"replayed: nonce {spec.Nonce} was already used";
        }

        var taskId = spec?.TaskId ?? offeredTaskId ?? "unknown";
        if (refusal is not null)
        {
            await log.WriteLineAsync($"medic-agent: refused task {taskId}: {refusal}");
            await send(new TaskResult(taskId, TaskStatus.Refused, null, 0, false, refusal));
            return;
        }

        var result = await executor.RunAsync(spec!, output => new ValueTask(send(output)), ct);
        await send(result);
    }
}

/// <summary>Nonces of accepted tasks, kept until they expire, so a replayed task is refused.</summary>
internal sealed class NonceMemory
{
    private readonly Dictionary<string, DateTimeOffset> _until = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public bool TryRemember(string nonce, DateTimeOffset until, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_until.Count > 10_000)
            {
                foreach (var expired in _until.Where(kv => kv.Value < now).Select(kv => kv.Key).ToList()) _until.Remove(expired);
            }

            if (_until.TryGetValue(nonce, out var existing) && existing >= now) return false;
            _until[nonce] = until;
            return true;
        }
    }
}
