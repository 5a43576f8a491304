using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Medic.Agent.Execution;

namespace Medic.Agent.Diagnostics;

/// <summary>
/// Can this machine reach something, and what answers: TCP connect, HTTP request, name resolution and
/// the TLS certificate served. A probe that reaches nothing still completes: its exit code is 1 and its
/// output says what happened (refused, no answer, unknown name, TLS failure).
/// </summary>
internal static class NetworkProbes
{
    internal const int BodyPreviewBytes = 2048;
    private static readonly string[] ShownHeaders = ["content-type", "content-length", "location", "server", "retry-after"];

    public static DiagnosticVerb TcpProbe { get; } = new()
    {
        Name = "tcp-probe",
        Description = "Whether a TCP connection to host:port succeeds, and how long it takes.",
        Parameters = [VerbParameter.Host(), VerbParameter.Port(), VerbParameter.Seconds(max: 10, defaultValue: 5)],
        Run = async run =>
        {
            var (host, port) = (run.Arguments.Text("host"), run.Arguments.Integer("port"));
            using var deadline = Deadline(run);
            var clock = Stopwatch.StartNew();
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(host, port, deadline.Token);
                return await ReportAsync(run, 0, $"connected to {host}:{port} ({Address(client.Client.RemoteEndPoint)}) in {clock.ElapsedMilliseconds} ms");
            }
            catch (Exception e) when (IsProbeFailure(e, run))
            {
                return await ReportAsync(run, 1, $"could not connect to {host}:{port}: {Explain(e, deadline, run)} after {clock.ElapsedMilliseconds} ms");
            }
        },
    };

    public static DiagnosticVerb HttpProbe { get; } = new()
    {
        Name = "http-probe",
        Description = "GET a URL directly (no proxy, no redirects): status, timing, key headers and the first 2 KiB of the body.",
        Parameters = [VerbParameter.HttpUrl(), VerbParameter.Seconds(max: 10, defaultValue: 5)],
        Run = RunHttpProbeAsync,
    };

    public static DiagnosticVerb Dns { get; } = new()
    {
        Name = "dns",
        Description = "The addresses a name resolves to on this machine (or the name of an address).",
        Parameters = [VerbParameter.Host("name"), VerbParameter.Seconds(max: 10, defaultValue: 5)],
        Run = async run =>
        {
            var name = run.Arguments.Text("name");
            using var deadline = Deadline(run);
            var clock = Stopwatch.StartNew();
            try
            {
                if (IPAddress.TryParse(name, out var address))
                {
                    var entry = await System.Net.Dns.GetHostEntryAsync(address.ToString(), deadline.Token);
                    return await ReportAsync(run, 0, $"{name} is {entry.HostName} ({clock.ElapsedMilliseconds} ms)");
                }
                var addresses = await System.Net.Dns.GetHostAddressesAsync(name, deadline.Token);
                var text = new StringBuilder($"{name} resolves to {addresses.Length} address{(addresses.Length == 1 ? "" : "es")} in {clock.ElapsedMilliseconds} ms:\n");
                foreach (var resolved in addresses)
                {
                    text.Append("  ").AppendLine(resolved.ToString());
                }
                await run.WriteAsync(text.ToString());
                return run.Completed(addresses.Length > 0 ? 0 : 1);
            }
            catch (Exception e) when (IsProbeFailure(e, run))
            {
                return await ReportAsync(run, 1, $"DNS lookup of {name} failed: {Explain(e, deadline, run)} after {clock.ElapsedMilliseconds} ms");
            }
        },
    };

    public static DiagnosticVerb TlsExpiry { get; } = new()
    {
        Name = "tls-expiry",
        Description = "The TLS certificate host:port serves: subject, issuer, expiry, days left and whether it validates.",
        Parameters = [VerbParameter.Host(), VerbParameter.Port(defaultValue: 443), VerbParameter.Seconds(max: 10, defaultValue: 5)],
        Run = RunTlsExpiryAsync,
    };

    private static async Task<ProcessOutcome> RunHttpProbeAsync(VerbRun run)
    {
        var url = new Uri(run.Arguments.Text("url"));
        using var deadline = Deadline(run);
        using var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("medic-agent", AgentProgram.Version));
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var headersMs = clock.ElapsedMilliseconds;
            var body = await ReadPrefixAsync(await response.Content.ReadAsStreamAsync(deadline.Token), BodyPreviewBytes, deadline.Token);
            var text = new StringBuilder();
            text.AppendLine($"GET {url}");
            text.AppendLine($"HTTP/{response.Version} {(int)response.StatusCode} {response.ReasonPhrase} in {headersMs} ms (first {body.Length} bytes of body by {clock.ElapsedMilliseconds} ms)");
            foreach (var name in ShownHeaders)
            {
                if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
                {
                    text.AppendLine($"{name}: {string.Join(", ", values)}");
                }
            }
            text.AppendLine();
            text.Append(Encoding.UTF8.GetString(body));
            if (body.Length > 0 && body[^1] != '\n')
            {
                text.AppendLine();
            }
            await run.WriteAsync(text.ToString());
            var status = (int)response.StatusCode;
            return run.Completed(status < 400 ? 0 : 1, status < 400 ? null : $"HTTP {status} {response.ReasonPhrase}");
        }
        catch (Exception e) when (IsProbeFailure(e, run))
        {
            return await ReportAsync(run, 1, $"GET {url} failed: {Explain(e, deadline, run)} after {clock.ElapsedMilliseconds} ms");
        }
    }

    private static async Task<byte[]> ReadPrefixAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[limit];
        var filled = 0;
        while (filled < limit)
        {
            var read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                break;
            }
            filled += read;
        }
        return buffer[..filled];
    }

    private static async Task<ProcessOutcome> RunTlsExpiryAsync(VerbRun run)
    {
        var (host, port) = (run.Arguments.Text("host"), run.Arguments.Integer("port"));
        using var deadline = Deadline(run);
        var errors = SslPolicyErrors.None;
        var chainProblems = new List<string>();
        var clock = Stopwatch.StartNew();
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, deadline.Token);
            await using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                // Accept any certificate: the point is to report on it, including why it does not validate.
                RemoteCertificateValidationCallback = (_, _, chain, policyErrors) =>
                {
                    errors = policyErrors;
                    chainProblems.AddRange(chain?.ChainStatus.Select(s => $"{s.Status}: {s.StatusInformation.Trim()}") ?? []);
                    return true;
                },
            }, deadline.Token);
            if (tls.RemoteCertificate is null)
            {
                return await ReportAsync(run, 1, $"{host}:{port} completed a TLS handshake without presenting a certificate");
            }
            using var certificate = X509CertificateLoader.LoadCertificate(tls.RemoteCertificate.GetRawCertData());
            await run.WriteAsync(Describe(certificate, tls.SslProtocol, errors, chainProblems, DateTimeOffset.UtcNow));
            return run.Completed();
        }
        catch (Exception e) when (IsProbeFailure(e, run))
        {
            return await ReportAsync(run, 1, $"no TLS certificate from {host}:{port}: {Explain(e, deadline, run)} after {clock.ElapsedMilliseconds} ms");
        }
    }

    internal static string Describe(X509Certificate2 certificate, SslProtocols protocol, SslPolicyErrors errors, IReadOnlyList<string> chainProblems, DateTimeOffset now)
    {
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var daysLeft = DaysLeft(notAfter, now);
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(san => san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(ip => ip.ToString())))
            .ToList();
        var text = new StringBuilder();
        text.AppendLine($"subject:    {certificate.Subject}");
        text.AppendLine($"issuer:     {certificate.Issuer}");
        text.AppendLine($"names:      {(names.Count == 0 ? "(no subject alternative names)" : string.Join(", ", names))}");
        text.AppendLine($"not before: {certificate.NotBefore.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}");
        text.AppendLine($"not after:  {notAfter:yyyy-MM-ddTHH:mm:ssZ}");
        text.AppendLine($"days left:  {daysLeft}{(daysLeft < 0 ? " (EXPIRED)" : "")}");
        text.AppendLine($"protocol:   {protocol}");
        text.AppendLine(errors == SslPolicyErrors.None
            ? "validation: ok"
            : $"validation: FAILED ({errors}){(chainProblems.Count > 0 ? "; " + string.Join("; ", chainProblems) : "")}");
        return text.ToString();
    }

    /// <summary>Whole days until <paramref name="notAfter"/>, rounded down; negative once expired.</summary>
    internal static int DaysLeft(DateTimeOffset notAfter, DateTimeOffset now) => (int)Math.Floor((notAfter - now).TotalDays);

    private static CancellationTokenSource Deadline(VerbRun run)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(run.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(run.Arguments.Integer("timeout")));
        return deadline;
    }

    private static async Task<ProcessOutcome> ReportAsync(VerbRun run, int exitCode, string line)
    {
        await run.WriteLineAsync(line);
        return run.Completed(exitCode, exitCode == 0 ? null : line);
    }

    /// <summary>Network trouble is the probe's answer, not its failure; the caller's own cancellation is not.</summary>
    private static bool IsProbeFailure(Exception e, VerbRun run) =>
        !run.CancellationToken.IsCancellationRequested
        && e is SocketException or IOException or HttpRequestException or AuthenticationException or OperationCanceledException;

    private static string Explain(Exception e, CancellationTokenSource deadline, VerbRun run)
    {
        if (e is OperationCanceledException || deadline.IsCancellationRequested)
        {
            return $"no answer within {run.Arguments.Integer("timeout")} s";
        }
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused (nothing listens there, or a firewall rejects it)",
                    SocketError.HostNotFound or SocketError.NoData => "the name does not resolve",
                    SocketError.TryAgain => "the name could not be resolved right now (DNS server unreachable?)",
                    SocketError.NetworkUnreachable or SocketError.HostUnreachable => "no route to the host",
                    SocketError.TimedOut => "the connection timed out",
                    _ => socket.Message,
                };
            }
            if (inner is AuthenticationException authentication)
            {
                return $"TLS handshake failed: {authentication.Message}";
            }
        }
        return e.Message;
    }

    private static string Address(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint ip => (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address).ToString(),
        _ => "?",
    };
}
