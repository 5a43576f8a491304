using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Medic.Agent.Tests.Watch;

/// <summary>One HTTP request as a fake chat service received it.</summary>
internal sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// Stands in for Slack, Discord, Telegram or any webhook at the wire: a real HTTP/1.1 listener on
/// loopback that records each request and answers with a fixed status and body.
/// </summary>
internal sealed class FakeHttpService : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<ReceivedRequest> _requests = [];
    private readonly Task _loop;

    public FakeHttpService(int status = 200, string body = "ok")
    {
        _listener.Start();
        _loop = ServeAsync(status, body);
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public IReadOnlyList<ReceivedRequest> Requests
    {
        get
        {
            lock (_requests) return [.. _requests];
        }
    }

    public async Task<ReceivedRequest> WaitForRequestAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Requests.Count > 0) return Requests[0];
            await Task.Delay(25);
        }

        throw new TimeoutException($"no request reached the fake service within {timeout.TotalSeconds} s");
    }

    private async Task ServeAsync(int status, string body)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (client)
                {
                    var stream = client.GetStream();
                    var reader = new StreamReader(stream, Encoding.UTF8);
                    var requestLine = await reader.ReadLineAsync() ?? "";
                    var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    string? line;
                    while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync()))
                    {
                        var colon = line.IndexOf(':', StringComparison.Ordinal);
                        headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                    }

                    var length = int.Parse(headers.GetValueOrDefault("Content-Length", "0"));
                    var buffer = new char[length];
                    var read = 0;
                    while (read < length)
                    {
                        var n = await reader.ReadAsync(buffer.AsMemory(read));
                        if (n == 0) break;
                        read += n;
                    }

                    var parts = requestLine.Split(' ');
                    lock (_requests) _requests.Add(new ReceivedRequest(parts[0], parts.Length > 1 ? parts[1] : "", headers, new string(buffer, 0, read)));
                    var response = $"HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(response));
                }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}

/// <summary>A tiny SMTP server on loopback that accepts every message and keeps its DATA.</summary>
internal sealed class FakeSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _messages = [];
    private readonly List<string> _commands = [];
    private readonly Task _loop;

    public FakeSmtpServer()
    {
        _listener.Start();
        _loop = ServeAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages) return [.. _messages];
        }
    }

    public IReadOnlyList<string> Commands
    {
        get
        {
            lock (_commands) return [.. _commands];
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using (client)
            {
                var stream = client.GetStream();
                var reader = new StreamReader(stream, Encoding.ASCII);
                var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
                await writer.WriteLineAsync("220 fake.smtp ESMTP ready");
                string? line;
                while ((line = await reader.ReadLineAsync()) is not null)
                {
                    lock (_commands) _commands.Add(line);
                    var verb = line.Split(' ')[0].ToUpperInvariant();
                    switch (verb)
                    {
                        case "EHLO":
                            await writer.WriteLineAsync("250-fake.smtp");
                            await writer.WriteLineAsync("250 8BITMIME");
                            break;
                        case "DATA":
                            await writer.WriteLineAsync("354 end with <CRLF>.<CRLF>");
                            var data = new StringBuilder();
                            while ((line = await reader.ReadLineAsync()) is not null && line != ".") data.AppendLine(line);
                            lock (_messages) _messages.Add(data.ToString());
                            await writer.WriteLineAsync("250 queued");
                            break;
                        case "QUIT":
                            await writer.WriteLineAsync("221 bye");
                            goto done;
                        default:
                            await writer.WriteLineAsync("250 ok");
                            break;
                    }
                }

            done:;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
