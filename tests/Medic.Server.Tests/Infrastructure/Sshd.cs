using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Medic.Server.Tests.Infrastructure;

/// <summary>
/// A real OpenSSH server for one test: <c>/usr/sbin/sshd -D -e</c> on 127.0.0.1 and a free port,
/// with its own host key, authorized_keys and config in a temp directory, logging to a buffer.
/// It accepts the key pair <see cref="UserKey"/> for the user the tests run as. Disposing kills it
/// (and its session processes) and deletes the directory. test.sh installs openssh-server when
/// /usr/sbin/sshd is missing.
/// </summary>
public sealed class Sshd : IAsyncDisposable
{
    public const string SshdPath = "/usr/sbin/sshd";

    private readonly Process _process;
    private readonly StringBuilder _log;

    private Sshd(string dir, int port, Process process, StringBuilder log)
    {
        Dir = dir;
        Port = port;
        _process = process;
        _log = log;
    }

    public string Dir { get; }

    public int Port { get; }

    /// <summary>host:port for <c>medic servers add --address</c>.</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>The login the tests use: the account they run as.</summary>
    public static string User => Environment.UserName;

    /// <summary>The private key sshd accepts (its public half is in authorized_keys).</summary>
    public string UserKey => Path.Combine(Dir, "user_key");

    /// <summary>The server's host key as <c>type base64</c>.</summary>
    public string HostKey => string.Join(' ', File.ReadAllText(Path.Combine(Dir, "host_key.pub")).Split(' ').Take(2));

    /// <summary>What sshd logged so far (one line per accepted login among others).</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    public static async Task<Sshd> StartAsync()
    {
        if (!File.Exists(SshdPath))
        {
            throw new InvalidOperationException($"{SshdPath} is missing: install openssh-server (./test.sh does)");
        }

        var dir = Directory.CreateTempSubdirectory("medic-sshd-").FullName;
        try
        {
            await NewKeyPairAsync(Path.Combine(dir, "host_key"));
            await NewKeyPairAsync(Path.Combine(dir, "user_key"));
            File.Copy(Path.Combine(dir, "user_key.pub"), Path.Combine(dir, "authorized_keys"));
            if (Environment.UserName == "root")
            {
                // The privilege separation directory sshd insists on when it runs as root.
                Directory.CreateDirectory("/run/sshd");
            }

            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort();
                var config = Path.Combine(dir, "sshd_config");
                File.WriteAllText(config, $"""
                    ListenAddress 127.0.0.1
                    Port {port}
                    HostKey {dir}/host_key
                    AuthorizedKeysFile {dir}/authorized_keys
                    PidFile {dir}/sshd.pid
                    StrictModes no
                    UsePAM no
                    PasswordAuthentication no
                    KbdInteractiveAuthentication no
                    PermitRootLogin prohibit-password
                    MaxStartups 200
                    MaxSessions 200
                    """);
                var log = new StringBuilder();
                var process = new Process
                {
                    StartInfo = new ProcessStartInfo(SshdPath) { ArgumentList = { "-D", "-e", "-f", config }, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false },
                };
                process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
                process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
                process.Start();
                process.BeginErrorReadLine();
                process.BeginOutputReadLine();
                var sshd = new Sshd(dir, port, process, log);
                if (await sshd.WaitForPortAsync())
                {
                    return sshd;
                }

                // Another test took the port between the probe and sshd's bind: try another.
                await sshd.StopAsync();
                if (attempt == 5)
                {
                    throw new InvalidOperationException($"sshd did not start listening:\n{sshd.Log}");
                }
            }
        }
        catch
        {
            Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    /// <summary>Generates an unencrypted ed25519 key pair at <paramref name="path"/> (and .pub).</summary>
    public static async Task NewKeyPairAsync(string path, string passphrase = "")
    {
        using var keygen = Process.Start(new ProcessStartInfo("ssh-keygen") { ArgumentList = { "-q", "-t", "ed25519", "-N", passphrase, "-C", "medic-test", "-f", path }, RedirectStandardError = true, RedirectStandardOutput = true })!;
        await keygen.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (keygen.ExitCode != 0) throw new InvalidOperationException("ssh-keygen failed: " + await keygen.StandardError.ReadToEndAsync());
    }

    /// <summary>How many logins sshd accepted so far (each new ssh connection is one).</summary>
    public int AcceptedLogins => Log.Split('\n').Count(l => l.Contains("Accepted publickey", StringComparison.Ordinal));

    private async Task<bool> WaitForPortAsync()
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (_process.HasExited) return false;
            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        return false;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
