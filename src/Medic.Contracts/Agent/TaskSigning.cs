using System.Security.Cryptography;
using System.Text.Json;

namespace Medic.Contracts.Agent;

/// <summary>Signs tasks on the control plane and checks them on the agent.</summary>
public static class TaskSigning
{
    public static SignedTask Sign(ECDsa key, TaskSpec spec)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(spec, AgentJson.Default.TaskSpec);
        var signature = key.SignData(payload, HashAlgorithmName.SHA256);
        return new SignedTask(Convert.ToBase64String(payload), Convert.ToBase64String(signature));
    }

    public static string PublicKey(ECDsa key) => Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());

    /// <summary>The public key as PEM, the form <c>openssl dgst -verify</c> reads.</summary>
    public static string PublicKeyPem(ECDsa key) => key.ExportSubjectPublicKeyInfoPem();

    /// <summary>
    /// Signs a file by its SHA-256 digest, in DER (RFC 3279), so that
    /// <c>openssl dgst -sha256 -verify key.pem -signature sig.der FILE</c> checks it as well as <see cref="VerifyFile"/>.
    /// </summary>
    public static byte[] SignFileDigest(ECDsa key, byte[] sha256) => key.SignHash(sha256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>Whether <paramref name="signature"/> (DER) is the pinned key's signature of <paramref name="sha256"/>, the digest of a file's bytes.</summary>
    public static bool VerifyFile(ECDsa publicKey, byte[] sha256, byte[] signature) =>
        publicKey.VerifyHash(sha256, signature, DSASignatureFormat.Rfc3279DerSequence);

    public static ECDsa ImportPublicKey(string spki)
    {
        var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(spki), out _);
        return key;
    }

    /// <summary>
    /// Checks the signature over the bytes as received, then the binding to this node and the
    /// validity window. Replays are the caller's to catch (it remembers nonces until they expire).
    /// </summary>
    public static (TaskSpec? Spec, string? Refusal) Verify(ECDsa publicKey, SignedTask task, string nodeId, DateTimeOffset now, TimeSpan clockSkew)
    {
        byte[] payload;
        byte[] signature;
        try
        {
            payload = Convert.FromBase64String(task.Payload);
            signature = Convert.FromBase64String(task.Signature);
        }
        catch (FormatException)
        {
            return (null, "unsigned or malformed: payload or signature is not base64");
        }

        if (signature.Length == 0)
        {
            return (null, "unsigned: the task carries no signature");
        }

        if (!publicKey.VerifyData(payload, signature, HashAlgorithmName.SHA256))
        {
            return (null, "tampered: the signature does not match the task's bytes and the pinned control-plane key");
        }

        TaskSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize(payload, AgentJson.Default.TaskSpec);
        }
        catch (JsonException ex)
        {
            return (null, "malformed: the signed payload is not a task (" + ex.Message + ")");
        }

        if (spec is null) return (null, "malformed: the signed payload is empty");
        if (!string.Equals(spec.NodeId, nodeId, StringComparison.Ordinal)) return (spec, $"misaddressed: the task is for node {spec.NodeId}, this is {nodeId}");
        if (spec.ExpiresAt < now - clockSkew) return (spec, $"expired at {spec.ExpiresAt:O}");
        if (spec.IssuedAt > now + clockSkew) return (spec, $"issued in the future ({spec.IssuedAt:O}); check the clocks");
        return (spec, null);
    }
}
