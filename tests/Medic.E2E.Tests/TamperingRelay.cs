using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Medic.E2E.Tests;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of a Medic server, standing in for whatever sits between an agent
/// and its control plane. It passes every byte through unchanged until <see cref="Tamper"/> is set;
/// then, on connections upgraded to a WebSocket, it alters one base64 character of each signed task
/// payload the server sends. Server frames are unmasked and the length stays the same, so the
/// WebSocket framing stays valid and only the signature check can notice.
/// </summary>
public sealed class TamperingRelay : IAsyncDisposable
{
    private static readonly byte[] PayloadMarker = "\"payload\":\""u8.ToArray();
    private static readonly byte[] EndOfHeaders = "\r\n\r\n"u8.ToArray();

    /// <summary>Which base64 character after the marker is altered: well inside the payload, not its first.</summary>
    private const int TamperOffset = 40;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _relays = [];
    private readonly Task _accepting;
    private volatile bool _tamper;
    private int _connections;
    private int _tampered;

    public TamperingRelay(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _accepting = AcceptAsync();
    }

    public string Url { get; }

    /// <summary>Whether task payloads from the server are altered from now on.</summary>
    public bool Tamper { get => _tamper; set => _tamper = value; }

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Task payloads altered so far.</summary>
    public int TamperedPayloads => Volatile.Read(ref _tampered);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                lock (_relays) _relays.Add(RelayAsync(client));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stop.Token);
                using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                var toServer = client.GetStream().CopyToAsync(upstream.GetStream(), done.Token);
                var toAgent = ServerToAgentAsync(upstream.GetStream(), client.GetStream(), done.Token);
                await Task.WhenAny(toServer, toAgent);
                await done.CancelAsync();
                await Task.WhenAll(toServer, toAgent);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task ServerToAgentAsync(Stream server, Stream agent, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        var headers = new List<byte>();
        var upgraded = false;
        var inHeaders = true;
        var window = new byte[PayloadMarker.Length];
        var seen = 0;
        var untilTamper = -1;
        while (true)
        {
            var read = await server.ReadAsync(buffer, ct);
            if (read == 0) return;
            for (var i = 0; i < read; i++)
            {
                var b = buffer[i];
                if (inHeaders)
                {
                    headers.Add(b);
                    if (EndsWith(headers, EndOfHeaders))
                    {
                        inHeaders = false;
                        upgraded = Encoding.ASCII.GetString([.. headers]).StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal);
                    }

                    continue;
                }

                if (!upgraded) continue;

                if (untilTamper > 0 && --untilTamper == 0)
                {
                    if (!IsBase64Character(b)) throw new InvalidOperationException($"byte {TamperOffset} of a task payload is '{(char)b}', not base64");
                    buffer[i] = b == (byte)'A' ? (byte)'B' : (byte)'A';
                    Interlocked.Increment(ref _tampered);
                    continue;
                }

                Array.Copy(window, 1, window, 0, window.Length - 1);
                window[^1] = b;
                seen++;
                if (_tamper && untilTamper <= 0 && seen >= window.Length && window.AsSpan().SequenceEqual(PayloadMarker))
                {
                    untilTamper = TamperOffset;
                }
            }

            await agent.WriteAsync(buffer.AsMemory(0, read), ct);
        }
    }

    private static bool EndsWith(List<byte> bytes, byte[] suffix) =>
        bytes.Count >= suffix.Length && bytes.GetRange(bytes.Count - suffix.Length, suffix.Length).SequenceEqual(suffix);

    private static bool IsBase64Character(byte b) => char.IsAsciiLetterOrDigit((char)b) || b is (byte)'+' or (byte)'/';

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] relays;
        lock (_relays) relays = [.. _relays];
        await Task.WhenAll(relays).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
