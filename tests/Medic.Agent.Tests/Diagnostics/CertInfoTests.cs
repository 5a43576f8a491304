using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Medic.Agent.Diagnostics;

namespace Medic.Agent.Tests.Diagnostics;

/// <summary>cert-info on real certificate files laid out the way certbot and acme.sh lay them out.</summary>
public sealed class CertInfoTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static string Pem(string name, int daysLeft)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        names.AddDnsName("www." + name);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(Now.AddDays(-60), Now.AddDays(daysLeft).AddHours(1));
        return certificate.ExportCertificatePem();
    }

    private static string Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static async Task<Dictionary<string, string>> Inspect(string target, string root) =>
        FindingsHarness.Parse((await CertInfo.InspectAsync(target, new CertInfo.Places(Path.Join(root, "letsencrypt"), [Path.Join(root, "acme")]), Now, CancellationToken.None)).Findings.ToString());

    [Fact]
    public async Task A_certbot_lineage_with_a_renewal_config_is_managed_by_certbot()
    {
        using var scratch = new ScratchDirectory();
        var cert = Write(Path.Join(scratch.Path, "letsencrypt", "live", "example.org", "cert.pem"), Pem("example.org", 5));
        Write(Path.Join(scratch.Path, "letsencrypt", "renewal", "example.org.conf"), "[renewalparams]\n");

        var byPath = await Inspect(cert, scratch.Path);
        var byName = await Inspect("example.org", scratch.Path);

        byPath["managed_by"].ShouldBe("certbot");
        byPath["cert_name"].ShouldBe("example.org");
        byPath["days_left"].ShouldBe("5");
        byPath["subject"].ShouldBe("CN=example.org");
        byName["managed_by"].ShouldBe("certbot");
        byName["path"].ShouldBe(cert);
    }

    [Fact]
    public async Task Without_a_renewal_config_certbot_does_not_renew_it()
    {
        using var scratch = new ScratchDirectory();
        var cert = Write(Path.Join(scratch.Path, "letsencrypt", "live", "example.org", "cert.pem"), Pem("example.org", 5));

        var findings = await Inspect(cert, scratch.Path);

        findings["managed_by"].ShouldBe("none");
        findings.ShouldNotContainKey("cert_name");
    }

    [Fact]
    public async Task A_certificate_elsewhere_with_other_names_is_managed_by_nobody()
    {
        using var scratch = new ScratchDirectory();
        Write(Path.Join(scratch.Path, "letsencrypt", "live", "example.org", "cert.pem"), Pem("example.org", 80));
        Write(Path.Join(scratch.Path, "letsencrypt", "renewal", "example.org.conf"), "");
        var own = Write(Path.Join(scratch.Path, "etc", "ssl", "intranet.pem"), Pem("intranet.corp", 3));

        var findings = await Inspect(own, scratch.Path);

        findings["managed_by"].ShouldBe("none");
        findings["days_left"].ShouldBe("3");
    }

    [Fact]
    public async Task A_served_copy_older_than_the_lineage_is_certbot_s_and_says_a_reload_is_due()
    {
        using var scratch = new ScratchDirectory();
        Write(Path.Join(scratch.Path, "letsencrypt", "live", "example.org", "cert.pem"), Pem("example.org", 89));
        Write(Path.Join(scratch.Path, "letsencrypt", "renewal", "example.org.conf"), "");
        var stale = Write(Path.Join(scratch.Path, "srv", "copy.pem"), Pem("example.org", 2));

        var findings = await Inspect(stale, scratch.Path);

        findings["managed_by"].ShouldBe("certbot");
        findings["cert_name"].ShouldBe("example.org");
        findings["on_disk_days_left"].ShouldBe("89");
    }

    [Fact]
    public async Task An_acme_sh_domain_is_managed_by_acme_sh()
    {
        using var scratch = new ScratchDirectory();
        var cert = Write(Path.Join(scratch.Path, "acme", "example.net_ecc", "example.net.cer"), Pem("example.net", 10));
        Write(Path.Join(scratch.Path, "acme", "example.net_ecc", "example.net.conf"), "Le_Domain='example.net'\n");

        var findings = await Inspect(cert, scratch.Path);

        findings["managed_by"].ShouldBe("acme.sh");
        findings["acme_domain"].ShouldBe("example.net");
    }

    [Fact]
    public async Task The_verb_reads_a_file_and_refuses_what_is_not_a_target()
    {
        using var scratch = new ScratchDirectory();
        var cert = scratch.File("site.pem", Pem("site.test", 20));

        var result = await VerbHarness.Run("cert-info", ("target", cert));

        result.Output.ShouldContain("subject:     CN=site.test\n");
        result.Output.ShouldContain("days left:   20\n");
        FindingsHarness.Parse(result.Output)["managed_by"].ShouldBe("none");
        VerbHarness.Validate("cert-info", ("target", "../etc/passwd")).ShouldBe("argument 'target' of 'cert-info': '../etc/passwd' is not a path, host:port or certbot certificate name");
        VerbHarness.Validate("cert-info", ("target", "example.org:99999")).ShouldBe("argument 'target' of 'cert-info': 'example.org:99999' does not end in a port (1-65535)");
    }
}
