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
            var probe = await ConnectAsync(host, port, TimeSpan.FromSeconds(run.Arguments.Integer("timeout")), run.CancellationToken);
            return probe.Error is null
                ? await ReportAsync(run, 0, $"connected to {host}:{port} ({probe.Address}) in {probe.Milliseconds} ms")
                : await ReportAsync(run, 1, $"could not connect to {host}:{port}: {probe.Error} after {probe.Milliseconds} ms");
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
            var timeout = TimeSpan.FromSeconds(run.Arguments.Integer("timeout"));
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(run.CancellationToken);
            deadline.CancelAfter(timeout);
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
            catch (Exception e) when (IsProbeFailure(e, run.CancellationToken))
            {
                return await ReportAsync(run, 1, $"DNS lookup of {name} failed: {Explain(e, deadline, timeout)} after {clock.ElapsedMilliseconds} ms");
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

    /// <summary>Probes use no proxy, follow no redirects and keep no cookies: they report what the URL itself answers.</summary>
    internal static SocketsHttpHandler NewHandler() => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
    };

    /// <summary>The outcome of one GET: the response (status, key headers, a prefix of the body) or why there was none.</summary>
    internal sealed record HttpAnswer(int Status, string? ReasonPhrase, Version Version, IReadOnlyList<(string Name, string Value)> Headers, byte[] Body, long HeadersMs, long TotalMs);

    /// <summary>
    /// GETs <paramref name="url"/> within <paramref name="timeout"/>; the error is a sentence when the
    /// URL could not be reached. <paramref name="closeConnection"/> keeps a health check from reusing
    /// a pooled connection to a process that has since been restarted.
    /// </summary>
    internal static async Task<(HttpAnswer? Answer, string? Error, long Milliseconds)> GetAsync(
        HttpClient client, Uri url, TimeSpan timeout, int bodyLimit, bool closeConnection, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("medic-agent", AgentProgram.Version));
        request.Headers.ConnectionClose = closeConnection;
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var headersMs = clock.ElapsedMilliseconds;
            var body = await ReadPrefixAsync(await response.Content.ReadAsStreamAsync(deadline.Token), bodyLimit, deadline.Token);
            var headers = new List<(string, string)>();
            foreach (var name in ShownHeaders)
            {
                if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
                {
                    headers.Add((name, string.Join(", ", values)));
                }
            }
            return (new HttpAnswer((int)response.StatusCode, response.ReasonPhrase, response.Version, headers, body, headersMs, clock.ElapsedMilliseconds), null, clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (IsProbeFailure(e, ct))
        {
            return (null, Explain(e, deadline, timeout), clock.ElapsedMilliseconds);
        }
    }

    /// <summary>Opens (and closes) a TCP connection; the error is a sentence when it could not.</summary>
    internal static async Task<(string? Address, string? Error, long Milliseconds)> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var clock = Stopwatch.StartNew();
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, deadline.Token);
            return (Address(client.Client.RemoteEndPoint), null, clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (IsProbeFailure(e, ct))
        {
            return (null, Explain(e, deadline, timeout), clock.ElapsedMilliseconds);
        }
    }

    /// <summary>The certificate host:port serves (whether or not it validates), with why it does not validate.</summary>
    internal static async Task<(X509Certificate2? Certificate, SslProtocols Protocol, SslPolicyErrors Errors, IReadOnlyList<string> ChainProblems, string? Error, long Milliseconds)> FetchCertificateAsync(
        string host, int port, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
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
                return (null, tls.SslProtocol, errors, chainProblems, $"{host}:{port} completed a TLS handshake without presenting a certificate", clock.ElapsedMilliseconds);
            }
            return (X509CertificateLoader.LoadCertificate(tls.RemoteCertificate.GetRawCertData()), tls.SslProtocol, errors, chainProblems, null, clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (IsProbeFailure(e, ct))
        {
            return (null, SslProtocols.None, errors, chainProblems, Explain(e, deadline, timeout), clock.ElapsedMilliseconds);
        }
    }

    private static async Task<ProcessOutcome> RunHttpProbeAsync(VerbRun run)
    {
        var url = new Uri(run.Arguments.Text("url"));
        using var handler = NewHandler();
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var (answer, error, ms) = await GetAsync(client, url, TimeSpan.FromSeconds(run.Arguments.Integer("timeout")), BodyPreviewBytes, closeConnection: false, run.CancellationToken);
        if (answer is null)
        {
            return await ReportAsync(run, 1, $"GET {url} failed: {error} after {ms} ms");
        }
        var text = new StringBuilder();
        text.AppendLine($"GET {url}");
        text.AppendLine($"HTTP/{answer.Version} {answer.Status} {answer.ReasonPhrase} in {answer.HeadersMs} ms (first {answer.Body.Length} bytes of body by {answer.TotalMs} ms)");
        foreach (var (name, value) in answer.Headers)
        {
            text.AppendLine($"{name}: {value}");
        }
        text.AppendLine();
        text.Append(Encoding.UTF8.GetString(answer.Body));
        if (answer.Body.Length > 0 && answer.Body[^1] != '\n')
        {
            text.AppendLine();
        }
        await run.WriteAsync(text.ToString());
        return run.Completed(answer.Status < 400 ? 0 : 1, answer.Status < 400 ? null : $"HTTP {answer.Status} {answer.ReasonPhrase}");
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
        var fetched = await FetchCertificateAsync(host, port, TimeSpan.FromSeconds(run.Arguments.Integer("timeout")), run.CancellationToken);
        if (fetched.Certificate is null)
        {
            return await ReportAsync(run, 1, fetched.Error!.StartsWith($"{host}:{port} completed", StringComparison.Ordinal)
                ? fetched.Error
                : $"no TLS certificate from {host}:{port}: {fetched.Error} after {fetched.Milliseconds} ms");
        }
        using var certificate = fetched.Certificate;
        await run.WriteAsync(Describe(certificate, fetched.Protocol, fetched.Errors, fetched.ChainProblems, DateTimeOffset.UtcNow));
        return run.Completed();
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

    private static async Task<ProcessOutcome> ReportAsync(VerbRun run, int exitCode, string line)
    {
        await run.WriteLineAsync(line);
        return run.Completed(exitCode, exitCode == 0 ? null : line);
    }

    /// <summary>Network trouble is the probe's answer, not its failure; the caller's own cancellation is not.</summary>
    private static bool IsProbeFailure(Exception e, CancellationToken callerToken) =>
        !callerToken.IsCancellationRequested
        && e is SocketException or IOException or HttpRequestException or AuthenticationException or OperationCanceledException;

    private static string Explain(Exception e, CancellationTokenSource deadline, TimeSpan timeout)
    {
        if (e is OperationCanceledException || deadline.IsCancellationRequested)
        {
            return $"no answer within {timeout.TotalSeconds:0.###} s";
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
