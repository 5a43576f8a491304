using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Fleet;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Fleet;

/// <summary>
/// The one-line install's endpoints: <c>/install.sh</c>, the agent binaries with their digest and
/// signature (public), and their list (signed-in users). The list reads the caller from the database,
/// so it runs on both dialects; the files touch no database.
/// </summary>
public sealed class InstallApiTests
{
    private static (TempDirectory Dir, byte[] Bytes) Binaries(string? version = null)
    {
        var dir = new TempDirectory();
        var bytes = RandomNumberGenerator.GetBytes(200_000);
        File.WriteAllBytes(Path.Combine(dir.Path, "medic-agent-linux-x64"), bytes);
        if (version is not null) File.WriteAllText(Path.Combine(dir.Path, "medic-agent-linux-x64.version"), version + "\n");
        return (dir, bytes);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_list_names_each_binary_with_version_digest_size_and_a_signature_the_pinned_key_checks(string dialect)
    {
        var (dir, bytes) = Binaries("9.8.7");
        using var _ = dir;
        await using var server = await MedicServer.StartAsync(dialect, o => o.AgentBinaries = dir.Path);

        using var anonymous = await server.Client().GetAsync("/api/v1/agent-binaries");
        await anonymous.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);

        using var response = await server.Admin.GetAsync("/api/v1/agent-binaries");
        var list = await response.ReadAsync(MedicJson.Default.IReadOnlyListAgentBinaryResponse);
        var binary = list.ShouldHaveSingleItem();
        (binary.Os, binary.Arch, binary.Version, binary.Size, binary.Url).ShouldBe(("linux", "x64", "9.8.7", bytes.Length, "/agent/medic-agent-linux-x64"));
        binary.Sha256.ShouldBe(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        using var pinned = TaskSigning.ImportPublicKey(server.Service<TaskSigningKey>().PublicKey);
        TaskSigning.VerifyFile(pinned, SHA256.HashData(bytes), Convert.FromBase64String(binary.Signature)).ShouldBeTrue();
        var altered = (byte[])bytes.Clone();
        altered[1000] ^= 0x01;
        TaskSigning.VerifyFile(pinned, SHA256.HashData(altered), Convert.FromBase64String(binary.Signature)).ShouldBeFalse("a signature of one file does not cover another");
    }

    [Fact]
    public async Task Anyone_downloads_the_binary_its_sha256_and_its_signature()
    {
        var (dir, bytes) = Binaries();
        using var _ = dir;
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.AgentBinaries = dir.Path);
        var client = server.Client();

        using var response = await client.GetAsync("/agent/medic-agent-linux-x64");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).ShouldBe(bytes);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        response.Headers.GetValues("X-Medic-Sha256").Single().ShouldBe(sha256);
        var signature = response.Headers.GetValues("X-Medic-Signature").Single();

        // The forms sha256sum and openssl read, as install.sh uses them.
        (await client.GetStringAsync("/agent/medic-agent-linux-x64.sha256")).ShouldBe($"{sha256}  medic-agent-linux-x64\n");
        (await client.GetStringAsync("/agent/medic-agent-linux-x64.sig")).ShouldBe(signature);
        using var pinned = TaskSigning.ImportPublicKey(server.Service<TaskSigningKey>().PublicKey);
        TaskSigning.VerifyFile(pinned, SHA256.HashData(bytes), Convert.FromBase64String(signature)).ShouldBeTrue();
    }

    [Fact]
    public async Task Without_binaries_the_download_is_a_404_naming_where_to_put_them_and_unknown_files_are_404s()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var client = server.Client();

        using var missing = await client.GetAsync("/agent/medic-agent-linux-arm64");
        var problem = await missing.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        problem.Detail().ShouldContain("linux-arm64");
        ((string?)problem["remedy"] ?? "").ShouldContain(Path.Combine(server.DataDir, "agent-binaries"));

        foreach (var path in new[] { "/agent/medic-agent-linux-sparc", "/agent/medic-agent-linux-x64.exe", "/agent/..%2Fmaster.key" })
        {
            using var unknown = await client.GetAsync(path);
            await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        }

        using var list = await server.Admin.GetAsync("/api/v1/agent-binaries");
        (await list.ReadAsync(MedicJson.Default.IReadOnlyListAgentBinaryResponse)).ShouldBeEmpty();
    }

    [Fact]
    public async Task The_script_is_public_pins_the_address_and_signing_key_and_parses_as_posix_sh()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.PublicUrl = "https://medic.example.com/");

        using var response = await server.Client().GetAsync("/install.sh");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/x-shellscript");
        var script = await response.Content.ReadAsStringAsync();
        script.ShouldStartWith("#!/bin/sh\n");
        script.ShouldContain("MEDIC_URL='https://medic.example.com'\n");
        script.ShouldContain("SIGNING_KEY='" + server.Service<TaskSigningKey>().PublicKeyPem.Trim() + "'");
        script.ShouldNotContain("@@");

        var path = Path.Combine(server.DataDir, "install.sh");
        await File.WriteAllTextAsync(path, script);
        using var dash = Process.Start(new ProcessStartInfo("sh", ["-n", path]) { RedirectStandardError = true })!;
        var errors = await dash.StandardError.ReadToEndAsync();
        await dash.WaitForExitAsync();
        dash.ExitCode.ShouldBe(0, errors);
    }

    [Fact]
    public async Task An_address_that_cannot_be_quoted_into_the_script_is_refused_with_the_setting_to_fix()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.PublicUrl = "https://medic.example.com/'$(reboot)'");

        using var response = await server.Client().GetAsync("/install.sh");
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        ((string?)problem["remedy"] ?? "").ShouldContain("public_url");
    }
}
