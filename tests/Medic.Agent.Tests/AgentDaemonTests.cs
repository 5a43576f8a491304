using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Medic.Agent.Monitors;
using Medic.Agent.Policy;
using Medic.Contracts.Agent;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests;

/// <summary>The agent's link: it survives any frame a broken or hostile control plane sends, and what it sends passes the redactor.</summary>
public sealed class AgentDaemonTests : IDisposable
{
    private const string Credential = "mdn_cred_5a1f0e9d8c7b6a5f4e3d";
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly StringWriter _logText = new();
    private readonly TextWriter _log;

    public AgentDaemonTests() => _log = TextWriter.Synchronized(_logText);

    public void Dispose() => _key.Dispose();

    private AgentConfig Config(int port = 1) => new()
    {
        Server = $"http://127.0.0.1:{port}", NodeId = "nod_1", Name = "web-1", Tenant = "acme", Credential = Credential, SigningPublicKey = TaskSigning.PublicKey(_key),
    };

    private SignedTask Exec(params string[] argv) => TaskSigning.Sign(_key, new TaskSpec(
        "tsk_" + Guid.NewGuid().ToString("N")[..8], "nod_1", Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5), TaskKind.Exec, argv, null, null, 30, 1024 * 1024));

    [Fact]
    public async Task Malformed_frames_are_dropped_and_the_next_valid_frame_is_processed_on_the_same_link()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var daemon = new AgentDaemon(Config(port), new LocalHostProbe(), new PolicyTaskExecutor(AgentPolicy.Parse("exec: true\n", "p")), TimeProvider.System, _log);
        var agent = daemon.RunAsync(stop.Token);

        using var tcp = await listener.AcceptTcpClientAsync(stop.Token);
        using var socket = await AcceptWebSocketAsync(tcp.GetStream(), stop.Token);
        (await ReceiveAsync(socket, stop.Token)).ShouldBeOfType<Hello>();

        string[] malformed =
        [
            "{}",
            """{"type":"task","task":null}""",
            """{"type":"self_destruct","now":true}""",
            "this is not json",
            "null",
            """{"type":"task","task":{"payload":"bm90IGEgdGFzaw==","signature":"AAAA"}}""",
            "{\"type\":\"welcome\",\"node_id\":\"nod_1\",\"pad\":\"" + new string('x', AgentDaemon.MaxFrameBytes + 1024) + "\"}",
        ];
        foreach (var frame in malformed) await SendAsync(socket, frame, stop.Token);
        await SendAsync(socket, JsonSerializer.Serialize<ServerMessage>(new Welcome("nod_1", 30), AgentJson.Default.ServerMessage), stop.Token);
        var task = Exec("echo", "still here");
        await SendAsync(socket, JsonSerializer.Serialize<ServerMessage>(new TaskOffer(task), AgentJson.Default.ServerMessage), stop.Token);

        var received = new List<AgentMessage>();
        while (!received.OfType<TaskResult>().Any(r => r.Status == TaskStatus.Completed) || !received.OfType<Heartbeat>().Any())
        {
            received.Add(await ReceiveAsync(socket, stop.Token));
        }

        received.OfType<TaskOutput>().Select(o => o.Data).ShouldContain("still here\n");
        received.OfType<TaskResult>().ShouldContain(r => r.Status == TaskStatus.Refused, "the task whose payload is not a task is answered, not fatal");
        agent.IsCompleted.ShouldBeFalse("the link loop keeps running");
        daemon.Failures.ShouldBe(0, "the link was never dropped");
        var log = _logText.ToString();
        log.Split('\n').Count(l => l.Contains("dropped a frame", StringComparison.Ordinal)).ShouldBe(6);
        log.ShouldContain("more than 4194304");

        await stop.CancelAsync();
        await agent;
    }

    [Fact]
    public async Task Task_output_and_reasons_leave_the_node_with_secrets_masked_even_when_split_across_chunks()
    {
        var daemon = new AgentDaemon(Config(), new LocalHostProbe(), new PolicyTaskExecutor(AgentPolicy.Parse("exec: true\n", "p")), TimeProvider.System, _log);
        var sent = new List<AgentMessage>();

        await daemon.HandleTaskAsync(
            Exec("sh", "-c", $"printf 'DB_PASSWORD=hun'; sleep 0.3; printf 'ter2\\nnode credential {Credential}\\n'; echo '-----BEGIN PRIVATE KEY-----'; sleep 0.3; echo MIIEvQIBADANBgkqhkiG9w0BAQEFAASC; echo '-----END PRIVATE KEY-----'; printf 'no newline password=tail'"),
            m => { lock (sent) sent.Add(m); return Task.CompletedTask; }, CancellationToken.None);

        var output = string.Concat(sent.OfType<TaskOutput>().Where(o => o.Stream == "stdout").OrderBy(o => o.Seq).Select(o => o.Data));
        output.ShouldBe($"DB_PASSWORD=[REDACTED]\nnode credential [REDACTED]\n-----BEGIN PRIVATE KEY-----[REDACTED]-----END PRIVATE KEY-----\nno newline password=[REDACTED]");
        sent.OfType<TaskOutput>().Select(o => o.Seq).Order().ShouldBe(Enumerable.Range(0, sent.OfType<TaskOutput>().Count()).Select(i => (long)i));
        sent.Last().ShouldBeOfType<TaskResult>().Status.ShouldBe(TaskStatus.Completed);
    }

    [Fact]
    public async Task Monitor_evidence_leaves_the_node_with_secrets_masked()
    {
        var dir = Directory.CreateTempSubdirectory("medic-daemon-").FullName;
        try
        {
            var spool = new EventSpool(dir);
            spool.Append(new AgentEvent(EventSpool.NewId(), DateTimeOffset.UtcNow, SpoolMonitorEvents.OpenedKind, "app.log matched",
                new Dictionary<string, string> { ["evidence.last_lines"] = "login ok\nAuthorization: Bearer abc.def.ghi\nretrying with https://svc:pa55@db.internal/", ["evidence.output"] = $"using {Credential}" }));
            var daemon = new AgentDaemon(Config(), new LocalHostProbe(), new PolicyTaskExecutor(new AgentPolicy()), TimeProvider.System, _log, spool);
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            AgentEvent? sent = null;

            try
            {
                await daemon.DrainSpoolAsync(spool, m => { sent = (AgentEvent)m; stop.Cancel(); return Task.CompletedTask; }, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }

            sent.ShouldNotBeNull();
            sent.Data!["evidence.last_lines"].ShouldBe("login ok\nAuthorization: Bearer [REDACTED]\nretrying with https://svc:[REDACTED]@db.internal/");
            sent.Data["evidence.output"].ShouldBe("using [REDACTED]");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<WebSocket> AcceptWebSocketAsync(NetworkStream stream, CancellationToken ct)
    {
        var request = new StringBuilder();
        var one = new byte[1];
        while (!request.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, ct) == 0) throw new IOException("the agent closed before its handshake");
            request.Append((char)one[0]);
        }

        var key = request.ToString().Split("\r\n").First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))["Sec-WebSocket-Key:".Length..].Trim();
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"), ct);
        return WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true });
    }

    private static Task SendAsync(WebSocket socket, string text, CancellationToken ct) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, ct);

    private static async Task<AgentMessage> ReceiveAsync(WebSocket socket, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(chunk, ct);
            buffer.Write(chunk, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return JsonSerializer.Deserialize(buffer.ToArray(), AgentJson.Default.AgentMessage)!;
    }
}
