using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

// Usage: medic-test-http --port N [--pidfile PATH] [--exit-after-ms N]
//                        [--name COMM] [--config PATH] [--lock PATH] [--burn-cpu] [--leak-mb-per-s N]
// Answers every GET with 200 "ok" (GET /pid with its pid), one request per connection.
// GET /hang answers "hanging" and from then on the process hangs: it still accepts connections
// but never answers them (a deadlocked server), until it is killed.
// GET /crash answers "crashing" and the process dies of an unhandled exception (the runtime aborts: SIGABRT).
// Fault modes for the efficacy suite (bench/Medic.Bench/Efficacy):
//   --name COMM      sets the process name (/proc/PID/comm), so a recipe can tell instances of it from other dotnet processes
//   --config PATH    reads PATH at start and exits 78 with "config error" on stderr unless it holds "listen: ok"
//   --lock PATH      a pid file the service creates at start and removes on a clean exit; if it already exists
//                    (left by a crashed instance) the service refuses to start (exit 75), as many daemons do
//   --burn-cpu       spins one core at 100 % (a runaway process)
//   --leak-mb-per-s N  allocates and touches N MiB every second and never frees them (a leak)
// A port already in use fails the start with "Address already in use" (exit 98).
var port = 0;
string? pidfile = null;
var exitAfter = 0;
string? name = null;
string? config = null;
string? lockFile = null;
var burn = false;
var leak = 0;
var hung = false;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--pidfile": pidfile = Next(); break;
        case "--exit-after-ms": exitAfter = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--name": name = Next(); break;
        case "--config": config = Next(); break;
        case "--lock": lockFile = Next(); break;
        case "--burn-cpu": burn = true; break;
        case "--leak-mb-per-s": leak = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

if (name is not null)
{
    // PR_SET_NAME names the calling thread; this is still the main thread, whose name is the process's comm.
    _ = NativeMethods.Prctl(15, name, 0, 0, 0);
}

if (config is not null)
{
    var text = File.Exists(config) ? File.ReadAllText(config) : null;
    if (text is null || !text.Contains("listen: ok", StringComparison.Ordinal))
    {
        Console.Error.WriteLine(text is null ? $"config error: {config}: No such file or directory" : $"config error: {config}, line 1: invalid setting '{text.Split('\n')[0].Trim()}'");
        Console.Error.WriteLine("fatal: cannot start with an invalid configuration");
        return 78;
    }
}

if (lockFile is not null)
{
    if (File.Exists(lockFile))
    {
        Console.Error.WriteLine($"error: lock file {lockFile} exists (pid {File.ReadAllText(lockFile).Trim()}): another instance is running, or remove the stale lock file");
        return 75;
    }

    File.WriteAllText(lockFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
    AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(lockFile);
}

var listener = new TcpListener(IPAddress.Loopback, port);
listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
try
{
    listener.Start();
}
catch (SocketException e)
{
    Console.Error.WriteLine($"error: cannot listen on 127.0.0.1:{port}: {e.Message}");
    if (lockFile is not null) File.Delete(lockFile);
    return 98;
}

if (pidfile is not null) File.WriteAllText(pidfile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
if (burn)
{
    new Thread(() =>
    {
        var x = 0UL;
        while (true) x = unchecked(x * 6364136223846793005UL + 1442695040888963407UL);
    }) { IsBackground = true }.UnsafeStart();
}

if (leak > 0)
{
    var kept = new List<byte[]>();
    _ = Task.Run(async () =>
    {
        while (true)
        {
            var block = new byte[leak << 20];
            for (var b = 0; b < block.Length; b += 4096) block[b] = 1;
            kept.Add(block);
            await Task.Delay(1000);
        }
    });
}
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
                    : text.StartsWith("GET /crash ", StringComparison.Ordinal) ? "crashing"
                    : "ok";
                if (body == "hanging")
                {
                    Volatile.Write(ref hung, true);
                }

                var response = $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
                if (body == "crashing")
                {
                    new Thread(() => throw new InvalidOperationException("efficacy fault: null reference in the order handler")).UnsafeStart();
                }
            }
            catch (IOException)
            {
            }
        }
    });
}

internal static partial class NativeMethods
{
    [LibraryImport("libc", EntryPoint = "prctl", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Prctl(int option, string name, ulong arg3, ulong arg4, ulong arg5);
}
