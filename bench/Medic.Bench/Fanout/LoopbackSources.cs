using System.Net;
using System.Net.Sockets;

namespace Medic.Bench.Fanout;

/// <summary>
/// Local addresses for the simulated hosts. The control plane allows 60 enrollments a minute per
/// client address; on one address 5,000 agents would need 84 minutes. Linux routes all of
/// 127.0.0.0/8 to the loopback device, so each group of <see cref="HostsPerAddress"/> hosts binds
/// its own source address (127.0.0.2, 127.0.0.3, ...), as distinct machines would have. The limit
/// itself is left as it is and is exercised, not bypassed: no address goes over it.
/// </summary>
internal sealed class LoopbackSources : IDisposable
{
    /// <summary>Below the limit of 60 a minute, so a window that straddles a minute boundary never refuses.</summary>
    public const int HostsPerAddress = 50;

    private readonly List<Source> _sources = [];

    public LoopbackSources(int hosts)
    {
        for (var i = 0; i * HostsPerAddress < hosts; i++)
        {
            var address = AddressOf(i);
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = (context, ct) => ConnectFromAsync(address, context.DnsEndPoint, ct),
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            };
            _sources.Add(new Source(address, handler, new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(60) }, new HttpMessageInvoker(handler, disposeHandler: false)));
        }
    }

    public int Count => _sources.Count;

    public string Range => _sources.Count == 1 ? _sources[0].Address.ToString() : $"{_sources[0].Address}..{_sources[^1].Address}";

    /// <summary>The HTTP client host <paramref name="index"/> enrolls with.</summary>
    public HttpClient Http(int index) => _sources[index / HostsPerAddress].Http;

    /// <summary>What host <paramref name="index"/> opens its WebSocket through (not an HttpClient: the upgrade must not buffer a body).</summary>
    public HttpMessageInvoker WebSockets(int index) => _sources[index / HostsPerAddress].Invoker;

    private static IPAddress AddressOf(int i) => new([127, (byte)((i + 2) / 65536 % 256), (byte)((i + 2) / 256 % 256), (byte)((i + 2) % 256)]);

    private static async ValueTask<Stream> ConnectFromAsync(IPAddress local, DnsEndPoint remote, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(local, 0));
            await socket.ConnectAsync(IPAddress.Parse(remote.Host), remote.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            socket.Dispose();
            throw new BenchFailure($"cannot bind the local address {local}: {ex.Message}", "the bench needs Linux's 127.0.0.0/8 loopback route (ip route show table local)");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var s in _sources)
        {
            s.Http.Dispose();
            s.Invoker.Dispose();
            s.Handler.Dispose();
        }
    }

    private sealed record Source(IPAddress Address, SocketsHttpHandler Handler, HttpClient Http, HttpMessageInvoker Invoker);
}
