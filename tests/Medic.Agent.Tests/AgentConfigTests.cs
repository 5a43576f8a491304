using System.Security.Cryptography;

namespace Medic.Agent.Tests;

/// <summary>agent.json is read whole or refused with one line of cause and a remedy: never a crash when the daemon starts.</summary>
public sealed class AgentConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("medic-agent-config-").FullName;

    private string Write(string signingKey)
    {
        var path = Path.Combine(_dir, "agent.json");
        File.WriteAllText(path, $$"""{"server":"http://127.0.0.1:7431","node_id":"nod_1","name":"web-1","tenant":"default","credential":"mdn_x","signing_public_key":"{{signingKey}}"}""");
        return path;
    }

    [Theory]
    [InlineData("not base64 at all!")]
    [InlineData("AAAA")]
    public void A_damaged_signing_key_is_refused_when_the_file_is_read(string key)
    {
        var path = Write(key);

        var error = Should.Throw<AgentException>(() => AgentConfig.Load(path));

        error.Message.ShouldStartWith($"{path}: signing_public_key is not a base64 ECDSA public key");
        error.Remedy.ShouldContain("medic-agent enroll");
    }

    [Fact]
    public void A_good_signing_key_is_read()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());

        AgentConfig.Load(Write(spki)).SigningPublicKey.ShouldBe(spki);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
