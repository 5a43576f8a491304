using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Medic.Agent.Diagnostics;

/// <summary>
/// A certificate (a file, what host:port serves, or a certbot name) and who renews it: certbot (a
/// lineage under /etc/letsencrypt/live with a renewal config), acme.sh (a domain directory under an
/// .acme.sh home), or nobody Medic knows, in which case renewing is a person's job.
/// </summary>
internal static class CertInfo
{
    internal sealed record Places(string LetsEncrypt, IReadOnlyList<string> AcmeHomes)
    {
        public static Places Default => new("/etc/letsencrypt", AcmeShHomes());
    }

    public static DiagnosticVerb Verb { get; } = new()
    {
        Name = "cert-info",
        Description = "A certificate's subject, issuer, expiry and days left, and whether certbot or acme.sh manages it (a file, host:port, or certbot name).",
        Parameters = [VerbParameter.CertificateTarget()],
        Run = async run =>
        {
            var (text, findings) = await InspectAsync(run.Arguments.Text("target"), Places.Default, DateTimeOffset.UtcNow, run.CancellationToken);
            return await run.ReportAsync(text, findings, findings["days_left"] is null ? 1 : 0);
        },
    };

    internal static async Task<(string Text, Findings Findings)> InspectAsync(string target, Places places, DateTimeOffset now, CancellationToken ct)
    {
        var findings = new Findings();
        var text = new StringBuilder();
        X509Certificate2? certificate;
        string? file = null;
        int? localPort = null;
        if (target.StartsWith('/') || !target.Contains(':', StringComparison.Ordinal))
        {
            file = target.StartsWith('/') ? target : Path.Join(places.LetsEncrypt, "live", target, "cert.pem");
            certificate = Load(file, out var error);
            if (certificate is null)
            {
                text.AppendLine($"no certificate in {file}: {error}");
                return (text.ToString(), findings.Add("managed_by", "none"));
            }
        }
        else
        {
            var colon = target.LastIndexOf(':');
            var (host, port) = (target[..colon].Trim('[', ']'), int.Parse(target[(colon + 1)..], CultureInfo.InvariantCulture));
            var fetched = await NetworkProbes.FetchCertificateAsync(host, port, TimeSpan.FromSeconds(5), ct);
            if (fetched.Certificate is null)
            {
                text.AppendLine($"no TLS certificate from {target}: {fetched.Error}");
                return (text.ToString(), findings);
            }
            certificate = fetched.Certificate;
            localPort = IsLocal(host) ? port : null;
        }
        using (certificate)
        {
            var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
            var daysLeft = NetworkProbes.DaysLeft(notAfter, now);
            var names = Names(certificate);
            text.AppendLine($"certificate: {file ?? target}");
            text.AppendLine($"subject:     {certificate.Subject}");
            text.AppendLine($"issuer:      {certificate.Issuer}");
            text.AppendLine($"names:       {(names.Count == 0 ? "(none)" : string.Join(", ", names))}");
            text.AppendLine($"not after:   {notAfter:yyyy-MM-ddTHH:mm:ssZ}");
            text.AppendLine($"days left:   {daysLeft}{(daysLeft < 0 ? " (EXPIRED)" : "")}");
            findings.Add("subject", certificate.Subject).Add("issuer", certificate.Issuer)
                .Add("not_after", notAfter.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)).Add("days_left", daysLeft).Add("path", file);

            var manager = Certbot(certificate, file, names, places.LetsEncrypt, now, text, findings) ?? AcmeSh(certificate, file, names, places.AcmeHomes, text, findings);
            findings.Add("managed_by", manager ?? "none");
            if (manager is null)
            {
                text.AppendLine("managed by:  nothing Medic knows (no certbot lineage with a renewal config, no acme.sh domain): renewing it is a person's job.");
            }
            if (localPort is { } port && PortHolder.Describe(port).Findings["unit"] is { } unit)
            {
                text.AppendLine($"served by:   {unit} (listening on port {port})");
                findings.Add("serving_unit", unit);
            }
        }
        return (text.ToString(), findings);
    }

    private static string? Certbot(X509Certificate2 certificate, string? file, IReadOnlyList<string> names, string root, DateTimeOffset now, StringBuilder text, Findings findings)
    {
        var live = Path.Join(root, "live");
        foreach (var lineage in Subdirectories(live))
        {
            var name = Path.GetFileName(lineage);
            var onDisk = Load(Path.Join(lineage, "cert.pem"), out _);
            using (onDisk)
            {
                var samePath = file is not null && (file == lineage || DiagnosticOptions.IsUnder(file, lineage));
                var same = onDisk is not null && onDisk.Thumbprint == certificate.Thumbprint;
                // The lineage may already hold a renewed certificate the server has not reloaded: same names, newer expiry.
                var renewed = onDisk is not null && !same && names.Count > 0 && Names(onDisk).Intersect(names, StringComparer.OrdinalIgnoreCase).Any();
                if (!samePath && !same && !renewed)
                {
                    continue;
                }
                var conf = Path.Join(root, "renewal", name + ".conf");
                text.AppendLine($"certbot:     lineage '{name}' ({lineage}){(File.Exists(conf) ? $", renewal config {conf}" : ", but no renewal config: certbot does not renew it")}");
                if (!File.Exists(conf))
                {
                    continue;
                }
                findings.Add("cert_name", name).Add("renewal_conf", conf);
                if (renewed && onDisk!.NotAfter.ToUniversalTime() > certificate.NotAfter.ToUniversalTime())
                {
                    var days = NetworkProbes.DaysLeft(new DateTimeOffset(onDisk.NotAfter.ToUniversalTime(), TimeSpan.Zero), now);
                    text.AppendLine($"             the lineage already holds a newer certificate ({days} days left): the server has not reloaded it.");
                    findings.Add("on_disk_days_left", days);
                }
                return "certbot";
            }
        }
        return null;
    }

    private static string? AcmeSh(X509Certificate2 certificate, string? file, IReadOnlyList<string> names, IReadOnlyList<string> homes, StringBuilder text, Findings findings)
    {
        foreach (var domainDirectory in homes.SelectMany(Subdirectories))
        {
            var domain = Path.GetFileName(domainDirectory);
            if (domain.EndsWith("_ecc", StringComparison.Ordinal))
            {
                domain = domain[..^4];
            }
            var conf = Path.Join(domainDirectory, domain + ".conf");
            if (!File.Exists(conf))
            {
                continue;
            }
            using var onDisk = Load(Path.Join(domainDirectory, domain + ".cer"), out _);
            var matches = (file is not null && DiagnosticOptions.IsUnder(file, domainDirectory))
                || (onDisk is not null && (onDisk.Thumbprint == certificate.Thumbprint || Names(onDisk).Intersect(names, StringComparer.OrdinalIgnoreCase).Any()));
            if (matches)
            {
                text.AppendLine($"acme.sh:     domain '{domain}' ({conf})");
                findings.Add("acme_domain", domain).Add("renewal_conf", conf);
                return "acme.sh";
            }
        }
        return null;
    }

    private static X509Certificate2? Load(string path, out string? error)
    {
        error = null;
        try
        {
            var text = File.ReadAllText(path);
            return text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)
                ? X509Certificate2.CreateFromPem(text)
                : X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            error = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message;
            return null;
        }
    }

    internal static IReadOnlyList<string> Names(X509Certificate2 certificate)
    {
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(san => san.EnumerateDnsNames()).ToList();
        var common = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (names.Count == 0 && common is { Length: > 0 })
        {
            names.Add(common);
        }
        return names;
    }

    private static IEnumerable<string> Subdirectories(string directory)
    {
        try
        {
            return Directory.EnumerateDirectories(directory).Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static IReadOnlyList<string> AcmeShHomes()
    {
        var homes = new List<string> { "/root/.acme.sh", "/etc/acme.sh" };
        try
        {
            homes.AddRange(Directory.EnumerateDirectories("/home").Select(h => Path.Join(h, ".acme.sh")));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // no /home: only root's
        }
        return homes;
    }

    private static bool IsLocal(string host)
    {
        if (host is "localhost" || host == Environment.MachineName)
        {
            return true;
        }
        if (!IPAddress.TryParse(host, out var address))
        {
            return false;
        }
        return IPAddress.IsLoopback(address)
            || NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses).Any(u => u.Address.Equals(address));
    }
}
