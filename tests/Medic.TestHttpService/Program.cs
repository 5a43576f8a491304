using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

// Usage: medic-test-http --port N [--pidfile PATH] [--exit-after-ms N]
// Answers every GET with 200 "ok" (GET /pid with its pid), one request per connection.
// GET /hang answers "hanging" and from then on the process hangs: it still accepts connections
// but never answers them (a deadlocked server), until it is killed.
var port = 0;
string? pidfile = null;
var exitAfter = 0;
var hung = false;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--port": port = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--pidfile": pidfile = args[i + 1]; break;
        case "--exit-after-ms": exitAfter = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

var listener = new TcpListener(IPAddress.Loopback, port);
listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
listener.Start();
if (pidfile is not null) File.WriteAllText(pidfile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
Console.WriteLine($"listening on 127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port} as pid {Environment.ProcessId}");
if (exitAfter > 0)
{
    _ = Task.Delay(exitAfter).ContinueWith(_ =>
    {
        Console.Error.WriteLine("exiting on purpose (--exit-after-ms)");
        Environment.Exit(3);
    }, TaskScheduler.Default);
}

while (true)
{
    var client = await listener.AcceptTcpClientAsync();
    _ = Task.Run(async () =>
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                if (Volatile.Read(ref hung))
                {
                    await Task.Delay(Timeout.Infinite);
                }

                var buffer = new byte[4096];
                var request = new StringBuilder();
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer);
                    if (read == 0) return;
                    request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }

                var text = request.ToString();
                var body = text.StartsWith("GET /pid ", StringComparison.Ordinal) ? Environment.ProcessId.ToString(CultureInfo.InvariantCulture)
                    : text.StartsWith("GET /hang ", StringComparison.Ordinal) ? "hanging"
                    : "ok";
                if (body == "hanging")
                {
                    Volatile.Write(ref hung, true);
                }

                var response = $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
            }
            catch (IOException)
            {
            }
        }
    });
}
