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
/// the <paramref name="spool"/> are sent once connected and as they come, then removed. A frame it
/// cannot use (not JSON, no known type, no task, too large) is logged and dropped; the link stays.
/// Task output, task results and events pass the <see cref="Policy.SecretRedactor"/> on the way out.
/// </summary>
public sealed class AgentDaemon(AgentConfig config, IHostProbe probe, ITaskExecutor executor, TimeProvider time, TextWriter log, Monitors.EventSpool? spool = null)
{
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);
    private readonly ECDsa _pinnedKey = TaskSigning.ImportPublicKey(config.SigningPublicKey);
    private readonly NonceMemory _seen = new();
    private readonly Policy.SecretRedactor _redactor = new([config.Credential]);

    /// <summary>The largest frame the agent reads; a larger one is dropped whole.</summary>
    public const int MaxFrameBytes = 4 * 1024 * 1024;

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
            catch (Exception) when (ct.IsCancellationRequested)
            {
                return; // stopping: a receive cut short surfaces as a cancellation or as an aborted socket
            }
            catch (Exception ex)
            {
                // Whatever broke this link, the agent connects again: a process that stays up without a link helps nobody.
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
                long frameBytes = 0;
                do
                {
                    result = await socket.ReceiveAsync(buffer.GetMemory(16 * 1024), linked.Token);
                    buffer.Advance(result.Count);
                    frameBytes += result.Count;
                    if (frameBytes > MaxFrameBytes) buffer.ResetWrittenCount(); // read to its end, keep nothing
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new WebSocketException("the control plane closed the link: " + socket.CloseStatusDescription);
                }

                if (frameBytes > MaxFrameBytes)
                {
                    await log.WriteLineAsync($"medic-agent: dropped a frame from the control plane: {frameBytes} bytes, more than {MaxFrameBytes}");
                    continue;
                }

                switch (ReadFrame(buffer.WrittenSpan, out var problem))
                {
                    case Welcome welcome:
                        heartbeatSeconds = Math.Clamp(welcome.HeartbeatSeconds, 1, 3600);
                        heartbeats ??= HeartbeatLoopAsync(Send, TimeSpan.FromSeconds(heartbeatSeconds), linked.Token);
                        if (spool is not null) drain ??= DrainSpoolAsync(spool, Send, linked.Token);
                        break;
                    case TaskOffer { Task: not null } offer:
                        running.RemoveAll(t => t.IsCompleted);
                        running.Add(HandleTaskAsync(offer.Task, Send, linked.Token, offer.TaskId));
                        break;
                    case TaskOffer:
                        await log.WriteLineAsync("medic-agent: dropped a frame from the control plane: a task offer without a task");
                        break;
                    default:
                        await log.WriteLineAsync($"medic-agent: dropped a frame from the control plane: {problem ?? "not a message this agent knows"}");
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

    /// <summary>The message a frame holds, or null with the reason it cannot be used.</summary>
    internal static ServerMessage? ReadFrame(ReadOnlySpan<byte> frame, out string? problem)
    {
        problem = null;
        try
        {
            var message = JsonSerializer.Deserialize(frame, AgentJson.Default.ServerMessage);
            if (message is null) problem = "an empty message (null)";
            return message;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException or FormatException)
        {
            // {} has no type, so it cannot be told apart from anything else: the serializer says "abstract type".
            problem = e is NotSupportedException ? "a message without a known type" : "not a valid message: " + e.Message;
            return null;
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
                await send(Redact(next));
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
        TaskSpec? spec;
        string? refusal;
        try
        {
            (spec, refusal) = TaskSigning.Verify(_pinnedKey, signed, config.NodeId, now, ClockSkew);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            (spec, refusal) = (null, "malformed: the task could not be read (" + e.GetType().Name + ")");
        }

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

        // Each stream holds back an unfinished line, so a secret split between two chunks is still seen whole.
        // One at a time, so the sequence numbers follow the order of what was sent.
        var streams = new Dictionary<string, Policy.StreamRedactor>(StringComparer.Ordinal);
        using var gate = new SemaphoreSlim(1, 1);
        long seq = 0;
        async ValueTask SendOutput(string stream, string text)
        {
            if (text.Length > 0) await send(new TaskOutput(spec!.TaskId, seq++, stream, text));
        }

        var result = await executor.RunAsync(spec!, async output =>
        {
            await gate.WaitAsync(ct);
            try
            {
                if (!streams.TryGetValue(output.Stream, out var redactor)) streams[output.Stream] = redactor = _redactor.Stream();
                await SendOutput(output.Stream, redactor.Push(output.Data));
            }
            finally
            {
                gate.Release();
            }
        }, ct);
        foreach (var (stream, redactor) in streams) await SendOutput(stream, redactor.Flush());
        await send(result with { Reason = result.Reason is null ? null : _redactor.Redact(result.Reason) });
    }

    /// <summary>An event as it may leave the node: message and data values through the redactor.</summary>
    internal AgentEvent Redact(AgentEvent e) => e with
    {
        Message = _redactor.Redact(e.Message),
        Data = e.Data?.ToDictionary(kv => kv.Key, kv => _redactor.Redact(kv.Value), StringComparer.Ordinal),
    };
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
