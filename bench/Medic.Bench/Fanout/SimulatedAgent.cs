using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using Medic.Agent;
using Medic.Contracts.Agent;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Bench.Fanout;

/// <summary>
/// One simulated host speaking the agent protocol over its own WebSocket: hello with facts,
/// heartbeats at the interval the welcome names, and for each offer the real agent's checks
/// (signature against the key pinned at enrollment, node binding, validity window, nonce replay)
/// before answering. It answers <c>true</c> (or what <c>answers</c> accepts) without spawning a
/// process: the run measures the control plane and the protocol, not process start-up on the
/// hosts. A dropped link is counted and reconnected with the real agent's backoff.
/// </summary>
internal sealed class SimulatedAgent : IDisposable
{
    // As in AgentDaemon.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);
    private const int MaxFrameBytes = 4 * 1024 * 1024;

    private readonly EnrollResponse _enrolled;
    private readonly ECDsa _pinnedKey;
    private readonly RoundRecorder _recorder;
    private readonly Func<TaskSpec, long, bool> _answers;
    private readonly Func<TaskSpec, bool> _holds;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, DateTimeOffset> _nonces = new(StringComparer.Ordinal);
    private Uri? _url;
    private HttpMessageInvoker? _invoker;
    private ClientWebSocket? _socket;
    private int _drops;
    private long _welcomedAt;
    private volatile bool _online;

    /// <param name="answers">
    /// Whether to answer a verified task as completed with exit 0 (otherwise it is refused); it gets
    /// the task and the monotonic timestamp its frame was read at. By default only <c>sh -c true</c>.
    /// </param>
    /// <param name="holds">
    /// Whether to take a verified task and never answer it (a long run that stays in flight until
    /// the bench ends); checked before <paramref name="answers"/>. By default none.
    /// </param>
    public SimulatedAgent(int index, EnrollResponse enrolled, RoundRecorder recorder, Func<TaskSpec, long, bool>? answers = null, Func<TaskSpec, bool>? holds = null)
    {
        _holds = holds ?? (_ => false);
        Index = index;
        _enrolled = enrolled;
        _recorder = recorder;
        _answers = answers ?? ((spec, _) => spec is { Kind: TaskKind.Exec, Argv: ["sh", "-c", "true"] });
        _pinnedKey = TaskSigning.ImportPublicKey(enrolled.SigningPublicKey);
    }

    public int Index { get; }

    public string Name => _enrolled.Name;

    /// <summary>The heartbeat interval the control plane's welcome named.</summary>
    public int HeartbeatSeconds { get; private set; }

    /// <summary>Welcomed on the current link.</summary>
    public bool Online => _online;

    /// <summary>Links that broke without the bench closing them.</summary>
    public int Drops => Volatile.Read(ref _drops);

    public string? LastDropReason { get; private set; }

    /// <summary>How long the first link lasted after its welcome, when it broke.</summary>
    public TimeSpan? FirstLinkLasted { get; private set; }

    public static string NameOf(int index) => $"bench-{index + 1:D5}";

    public static HostFacts FactsOf(int index) => new(
        NameOf(index), "Ubuntu 24.04.1 LTS", "6.8.0-45-generic", "x86_64", 2, 4L << 30,
        [new DiskFact("/", "/dev/vda1", "ext4", 40L << 30), new DiskFact("/boot/efi", "/dev/vda15", "vfat", 105L << 20)],
        [$"10.{index / 65536 % 256}.{index / 256 % 256}.{index % 256}"], "systemd", "0.1.0", DateTimeOffset.UtcNow.AddDays(-12).AddMinutes(index % 600));

    /// <summary>Connects, says hello, and returns once the control plane's welcome arrived.</summary>
    public Task ConnectAsync(Uri connectUrl, HttpMessageInvoker invoker, CancellationToken ct)
    {
        _url = connectUrl;
        _invoker = invoker;
        return ConnectOnceAsync(ct);
    }

    private async Task ConnectOnceAsync(CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + _enrolled.Credential);
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        try
        {
            await socket.ConnectAsync(_url!, _invoker!, ct);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
        var welcomed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = ReceiveLoopAsync(socket, welcomed);
        await SendAsync(socket, new Hello(FactsOf(Index)), ct);
        await welcomed.Task.WaitAsync(ct);
    }

    private async Task ReceiveLoopAsync(ClientWebSocket socket, TaskCompletionSource welcomed)
    {
        using var link = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var ct = link.Token;
        var buffer = new ArrayBufferWriter<byte>(1024);
        Task? heartbeats = null;
        string? dropped = null;
        try
        {
            while (true)
            {
                buffer.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.GetMemory(512), ct);
                    buffer.Advance(result.Count);
                    if (buffer.WrittenCount > MaxFrameBytes) throw new InvalidDataException($"a frame from the control plane exceeded {MaxFrameBytes} bytes");
                }
                while (!result.EndOfMessage);

                var received = Stopwatch.GetTimestamp();
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    dropped = "the control plane closed the link: " + socket.CloseStatusDescription;
                    break;
                }

                switch (JsonSerializer.Deserialize(buffer.WrittenSpan, AgentJson.Default.ServerMessage))
                {
                    case Welcome welcome:
                        HeartbeatSeconds = welcome.HeartbeatSeconds;
                        heartbeats ??= HeartbeatLoopAsync(socket, TimeSpan.FromSeconds(welcome.HeartbeatSeconds), ct);
                        _welcomedAt = Stopwatch.GetTimestamp();
                        _online = true;
                        welcomed.TrySetResult();
                        break;
                    case TaskOffer offer:
                        await AnswerAsync(socket, offer.Task, received, ct);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is WebSocketException or JsonException or InvalidDataException or ObjectDisposedException or OperationCanceledException)
        {
            dropped = ex.Message;
        }
        finally
        {
            _online = false;
            await link.CancelAsync();
            socket.Abort();
            if (heartbeats is not null) await heartbeats;
            socket.Dispose();
        }

        LastDropReason = dropped;
        if (Interlocked.Increment(ref _drops) == 1 && _welcomedAt != 0) FirstLinkLasted = Stopwatch.GetElapsedTime(_welcomedAt);
        welcomed.TrySetException(new WebSocketException(dropped));
        if (welcomed.Task.IsFaulted) _ = welcomed.Task.Exception;
        if (HeartbeatSeconds > 0) await ReconnectAsync();
    }

    /// <summary>What AgentDaemon does after a drop: wait its jittered exponential backoff, try again, until the bench stops.</summary>
    private async Task ReconnectAsync()
    {
        for (var failures = 1; !_stop.IsCancellationRequested; failures++)
        {
            try
            {
                await Task.Delay(AgentDaemon.Backoff(failures, Random.Shared.NextDouble()), _stop.Token);
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                attempt.CancelAfter(TimeSpan.FromSeconds(30));
                await ConnectOnceAsync(attempt.Token);
                return;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                LastDropReason = "reconnect: " + ex.Message;
            }
        }
    }

    private async Task AnswerAsync(ClientWebSocket socket, SignedTask signed, long received, CancellationToken ct)
    {
        _recorder.Offered(Index, received);
        var now = DateTimeOffset.UtcNow;
        var (spec, refusal) = TaskSigning.Verify(_pinnedKey, signed, _enrolled.NodeId, now, ClockSkew);
        if (refusal is null && !RememberNonce(spec!.Nonce, spec.ExpiresAt + ClockSkew, now)) refusal = $"replayed: nonce {spec.Nonce} was already used";
        if (refusal is null && _holds(spec!)) return;
        if (refusal is null && !_answers(spec!, received)) refusal = "the bench's simulated agent does not answer this task";

        var taskId = spec?.TaskId ?? "unknown";
        if (refusal is not null)
        {
            _recorder.Refused();
            await SendAsync(socket, new TaskResult(taskId, TaskStatus.Refused, null, 0, false, refusal), ct);
        }
        else
        {
            // One (empty) stdout chunk, so the output path is exercised as well as the result's.
            await SendAsync(socket, new TaskOutput(taskId, 0, "stdout", ""), ct);
            await SendAsync(socket, new TaskResult(taskId, TaskStatus.Completed, 0, (long)Stopwatch.GetElapsedTime(received).TotalMilliseconds, false, null), ct);
        }

        _recorder.Replied(Index, Stopwatch.GetTimestamp());
    }

    private bool RememberNonce(string nonce, DateTimeOffset until, DateTimeOffset now)
    {
        if (_nonces.Count > 64)
        {
            foreach (var expired in _nonces.Where(kv => kv.Value < now).Select(kv => kv.Key).ToList()) _nonces.Remove(expired);
        }

        return _nonces.TryAdd(nonce, until);
    }

    private async Task HeartbeatLoopAsync(ClientWebSocket socket, TimeSpan interval, CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(interval);
            await SendAsync(socket, new Heartbeat(Sample()), ct);
            while (await timer.WaitForNextTickAsync(ct))
            {
                await SendAsync(socket, new Heartbeat(Sample()), ct);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The receive loop sees the same broken link and counts it.
            socket.Abort();
        }
    }

    private Metrics Sample()
    {
        var wobble = Random.Shared.NextDouble();
        return new Metrics(DateTimeOffset.UtcNow, 3 + (10 * wobble), 0.2 + wobble, 0.3, 0.25, 4L << 30, (1L << 30) + (long)(wobble * (512 << 20)), 0, 0,
            [new MountUsage("/", 40L << 30, 11L << 30, 2_621_440, 190_000)], 1_000_000_000L + Index, 400_000_000L + Index, 140 + (Index % 20), 1_036_800);
    }

    private async Task SendAsync(ClientWebSocket socket, AgentMessage message, CancellationToken ct)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, AgentJson.Default.AgentMessage);
        await _sendLock.WaitAsync(ct);
        try
        {
            await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket?.Abort();
    }
}
