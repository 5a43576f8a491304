using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Medic.Contracts;
using Medic.Contracts.Agent;

namespace Medic.Server.Tests.Infrastructure;

/// <summary>
/// An enrolled node speaking the agent protocol on a real WebSocket to a <see cref="MedicServer"/>:
/// it verifies each task's signature like the agent does, and the test decides what it answers
/// (or sends frames no honest agent would). Used where the test needs control over the agent's side
/// of the wire (a forged result, a task held open); the real agent runs in the end-to-end tests.
/// </summary>
public sealed class WireAgent : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly Channel<TaskSpec> _tasks = Channel.CreateUnbounded<TaskSpec>();
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly ECDsa _signing;
    private Task _receive = Task.CompletedTask;

    private WireAgent(EnrollResponse enrolled)
    {
        Enrolled = enrolled;
        _signing = TaskSigning.ImportPublicKey(enrolled.SigningPublicKey);
    }

    public EnrollResponse Enrolled { get; }

    public string NodeId => Enrolled.NodeId;

    /// <summary>When set, every task is answered at once with this (the task as argument); otherwise tasks wait in <see cref="NextTaskAsync"/>.</summary>
    public Func<TaskSpec, TaskResult>? AutoAnswer { get; set; }

    /// <summary>Enrolls a node named <paramref name="name"/> in the admin's tenant; <see cref="ConnectAsync"/> links it.</summary>
    public static async Task<WireAgent> EnrollAsync(MedicServer server, string name)
    {
        using var token = await server.Admin.PostAsync("/api/v1/enrollment-tokens", Json.Raw("{}"));
        var secret = (await token.ReadAsync(MedicJson.Default.EnrollmentTokenCreatedResponse, HttpStatusCode.Created)).Secret;
        using var enroll = await server.Client().PostAsync("/agent/v1/enroll", Json.Raw($$"""{"token":"{{secret}}","name":"{{name}}"}"""));
        return new WireAgent(await enroll.ReadAsync(AgentJson.Default.EnrollResponse));
    }

    /// <summary>Opens the link and waits for the welcome, so the server has registered the connection when this returns.</summary>
    public async Task ConnectAsync(MedicServer server)
    {
        _socket.Options.SetRequestHeader("Authorization", "Bearer " + Enrolled.Credential);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _socket.ConnectAsync(new Uri(server.BaseAddress.ToString().Replace("http", "ws", StringComparison.Ordinal) + "agent/v1/connect"), timeout.Token);
        (await ReceiveAsync(timeout.Token)).ShouldBeOfType<Welcome>();
        _receive = Task.Run(ReceiveLoopAsync);
    }

    public async Task SendAsync(AgentMessage message)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, AgentJson.Default.AgentMessage);
        await _send.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>The next task offered to this node (its signature checked), within <paramref name="seconds"/>.</summary>
    public async Task<TaskSpec> NextTaskAsync(int seconds = 30)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        return await _tasks.Reader.ReadAsync(timeout.Token);
    }

    public static TaskResult Completed(TaskSpec task, int exitCode) => new(task.TaskId, Contracts.Agent.TaskStatus.Completed, exitCode, 5, false, null);

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (await ReceiveAsync(_stop.Token) is not TaskOffer offer) continue;
                var (spec, refusal) = TaskSigning.Verify(_signing, offer.Task, NodeId, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
                if (spec is null) throw new InvalidOperationException("the server sent a task that does not verify: " + refusal);
                if (AutoAnswer is { } answer) await SendAsync(answer(spec));
                else await _tasks.Writer.WriteAsync(spec);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or InvalidOperationException)
        {
            _tasks.Writer.TryComplete(ex is InvalidOperationException ? ex : null);
        }
    }

    private async Task<ServerMessage?> ReceiveAsync(CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        ValueWebSocketReceiveResult r;
        do
        {
            r = await _socket.ReceiveAsync(chunk.AsMemory(), ct);
            if (r.MessageType == WebSocketMessageType.Close) throw new WebSocketException("the server closed the link");
            buffer.Write(chunk, 0, r.Count);
        }
        while (!r.EndOfMessage);
        return JsonSerializer.Deserialize(buffer.ToArray(), AgentJson.Default.ServerMessage);
    }

    /// <summary>Closes the link as an agent that stops would.</summary>
    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await _stop.CancelAsync();
        await _receive.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _socket.Dispose();
        _signing.Dispose();
        _stop.Dispose();
    }
}
