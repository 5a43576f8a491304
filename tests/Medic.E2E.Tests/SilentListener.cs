using System.Net;
using System.Net.Sockets;

namespace Medic.E2E.Tests;

/// <summary>
/// A loopback TCP port that accepts connections and never answers: an HTTP probe against it waits
/// until its own deadline, which makes a diagnostic verb run as long as the test needs, without
/// leaving the machine.
/// </summary>
public sealed class SilentListener : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _accepted = [];
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();

    public SilentListener()
    {
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";
        _ = AcceptAsync();
    }

    public string Url { get; }

    /// <summary>Completes when something (the agent's probe) has connected.</summary>
    public async Task WaitForConnectionAsync(TimeSpan timeout)
    {
        try
        {
            await _first.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"nothing connected to {Url} within {timeout.TotalSeconds:0} s");
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                lock (_accepted) _accepted.Add(socket);
                _first.TrySetResult();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_accepted)
        {
            foreach (var socket in _accepted) socket.Dispose();
        }

        _stop.Dispose();
    }
}
