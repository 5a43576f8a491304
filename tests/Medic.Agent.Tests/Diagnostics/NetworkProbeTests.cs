using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Medic.Agent.Diagnostics;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Diagnostics;

/// <summary>Probes against real sockets on loopback.</summary>
public sealed class NetworkProbeTests
{
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port; // closed again once disposed
    }

    [Fact]
    public async Task Tcp_probe_connects_to_a_listening_port_and_reports_the_time()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var result = await VerbHarness.Run("tcp-probe", ("host", "127.0.0.1"), ("port", port.ToString()));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(0);
        result.Output.ShouldMatch($@"^connected to 127\.0\.0\.1:{port} \(127\.0\.0\.1\) in \d+ ms\n$");
    }

    [Fact]
    public async Task Tcp_probe_to_a_closed_port_says_the_connection_was_refused()
    {
        var port = ClosedPort();

        var result = await VerbHarness.Run("tcp-probe", ("host", "127.0.0.1"), ("port", port.ToString()), ("timeout", "2"));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(1);
        result.Output.ShouldStartWith($"could not connect to 127.0.0.1:{port}: connection refused");
        result.Outcome.Reason.ShouldBe(result.Output.TrimEnd('\n'));
    }

    [Fact]
    public async Task Http_probe_reports_status_headers_and_only_the_first_2_KiB_of_the_body()
    {
        var body = new string('#', 2048) + new string('~', 3000);
        await using var server = await TinyHttpServer.StartAsync("200 OK", body);

        var result = await VerbHarness.Run("http-probe", ("url", $"http://127.0.0.1:{server.Port}/health"));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(0);
        result.Output.ShouldStartWith($"GET http://127.0.0.1:{server.Port}/health\nHTTP/1.1 200 OK in ");
        result.Output.ShouldContain("content-type: text/plain\n");
        result.Output.ShouldContain($"content-length: {body.Length}\n");
        result.Output.ShouldContain(new string('#', 2048));
        result.Output.ShouldNotContain("~");
        server.Request.ShouldStartWith("GET /health HTTP/1.1\r\n");
    }

    [Fact]
    public async Task Http_probe_of_a_failing_endpoint_completes_with_exit_code_1()
    {
        await using var server = await TinyHttpServer.StartAsync("503 Service Unavailable", "down for maintenance");

        var result = await VerbHarness.Run("http-probe", ("url", $"http://127.0.0.1:{server.Port}/"));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(1);
        result.Outcome.Reason.ShouldBe("HTTP 503 Service Unavailable");
        result.Output.ShouldContain("down for maintenance");
    }

    [Fact]
    public async Task Http_probe_of_a_closed_port_says_so()
    {
        var port = ClosedPort();

        var result = await VerbHarness.Run("http-probe", ("url", $"http://127.0.0.1:{port}/"));

        result.Outcome.ExitCode.ShouldBe(1);
        result.Output.ShouldStartWith($"GET http://127.0.0.1:{port}/ failed: connection refused");
    }

    [Fact]
    public async Task Http_probe_gives_up_on_a_silent_server_within_its_timeout()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(); // accepts connections (backlog) but never answers
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var result = await VerbHarness.Run("http-probe", ("url", $"http://127.0.0.1:{port}/"), ("timeout", "1"));

        result.Outcome.ExitCode.ShouldBe(1);
        result.Output.ShouldContain("no answer within 1 s");
        result.Outcome.DurationMs.ShouldBeLessThan(5000);
    }

    [Fact]
    public async Task Dns_resolves_localhost_to_a_loopback_address()
    {
        var result = await VerbHarness.Run("dns", ("name", "localhost"));

        result.Outcome.ExitCode.ShouldBe(0);
        result.Output.ShouldMatch(@"^localhost resolves to \d+ address(es)? in \d+ ms:\n");
        result.Output.ShouldMatch(@"\n  (127\.0\.0\.1|::1)\n");
    }

    [Fact]
    public async Task Dns_says_when_a_name_does_not_resolve()
    {
        var result = await VerbHarness.Run("dns", ("name", "medic-does-not-exist.invalid"));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(1);
        result.Output.ShouldStartWith("DNS lookup of medic-does-not-exist.invalid failed: ");
    }

    [Fact]
    public async Task Tls_expiry_reports_subject_days_left_and_why_a_self_signed_certificate_does_not_validate()
    {
        var now = DateTimeOffset.UtcNow;
        using var certificate = SelfSigned("CN=medic-test.local", now.AddDays(-1), now.AddDays(30).AddHours(1));
        await using var server = await TlsServer.StartAsync(certificate);

        var result = await VerbHarness.Run("tls-expiry", ("host", "localhost"), ("port", server.Port.ToString()));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(0);
        result.Output.ShouldContain("subject:    CN=medic-test.local\n");
        result.Output.ShouldContain("issuer:     CN=medic-test.local\n");
        result.Output.ShouldContain("names:      medic-test.local\n");
        result.Output.ShouldContain("days left:  30\n");
        result.Output.ShouldContain($"not after:  {now.AddDays(30).AddHours(1):yyyy-MM-dd}");
        result.Output.ShouldMatch(@"validation: FAILED \(.*RemoteCertificateNameMismatch.*RemoteCertificateChainErrors.*\); .*UntrustedRoot");
    }

    [Fact]
    public async Task Tls_expiry_marks_an_expired_certificate()
    {
        var now = DateTimeOffset.UtcNow;
        using var certificate = SelfSigned("CN=localhost", now.AddDays(-30), now.AddDays(-2).AddHours(-1));
        await using var server = await TlsServer.StartAsync(certificate);

        var result = await VerbHarness.Run("tls-expiry", ("host", "localhost"), ("port", server.Port.ToString()));

        result.Output.ShouldContain("days left:  -3 (EXPIRED)\n");
        result.Output.ShouldContain("NotTimeValid");
    }

    [Fact]
    public async Task Tls_expiry_against_a_port_without_tls_says_the_handshake_failed()
    {
        await using var server = await TinyHttpServer.StartAsync("200 OK", "plain");

        var result = await VerbHarness.Run("tls-expiry", ("host", "127.0.0.1"), ("port", server.Port.ToString()), ("timeout", "3"));

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(1);
        result.Output.ShouldStartWith($"no TLS certificate from 127.0.0.1:{server.Port}: ");
    }

    [Theory]
    [InlineData(30.5, 30)]
    [InlineData(0.2, 0)]
    [InlineData(-0.2, -1)]
    public void Days_left_rounds_down(double days, int expected)
    {
        var now = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

        NetworkProbes.DaysLeft(now.AddDays(days), now).ShouldBe(expected);
    }

    private static X509Certificate2 SelfSigned(string subject, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(subject[3..]);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(notBefore, notAfter);
    }

    /// <summary>Answers one HTTP request on loopback with a fixed response, then closes.</summary>
    private sealed class TinyHttpServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Task _serving;

        private TinyHttpServer(string status, string body)
        {
            _listener.Start();
            _serving = ServeAsync(status, body);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public string Request { get; private set; } = "";

        public static Task<TinyHttpServer> StartAsync(string status, string body) => Task.FromResult(new TinyHttpServer(status, body));

        private async Task ServeAsync(string status, string body)
        {
            using var client = await _listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var request = new StringBuilder();
            var buffer = new byte[4096];
            while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer);
                if (read == 0)
                {
                    return;
                }
                request.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
            Request = request.ToString();
            var response = $"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
            try
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
            }
            catch (IOException)
            {
                // The probe read its 2 KiB and hung up: expected.
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await Task.WhenAny(_serving, Task.Delay(2000));
        }
    }

    /// <summary>Completes one TLS handshake on loopback with the given certificate.</summary>
    private sealed class TlsServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Task _serving;

        private TlsServer(X509Certificate2 certificate)
        {
            _listener.Start();
            _serving = ServeAsync(certificate);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static Task<TlsServer> StartAsync(X509Certificate2 certificate) => Task.FromResult(new TlsServer(certificate));

        private async Task ServeAsync(X509Certificate2 certificate)
        {
            using var client = await _listener.AcceptTcpClientAsync();
            await using var tls = new SslStream(client.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate });
                _ = await tls.ReadAsync(new byte[1]); // until the probe closes
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await Task.WhenAny(_serving, Task.Delay(2000));
        }
    }
}
