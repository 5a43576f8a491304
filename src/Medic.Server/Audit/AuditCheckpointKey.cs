using System.Security.Cryptography;
using Medic.Contracts;
using Medic.Server.Common;

namespace Medic.Server.Audit;

/// <summary>
/// The ECDSA P-256 key that signs audit checkpoints: a 0600 PEM file (by default in the data
/// directory's keys/), never in the database, stored the way the task-signing key is. It is a key
/// of its own rather than the task-signing key: agents pin that one to accept commands, so it can
/// never be rotated or moved off the host without re-enrolling every agent, and a checkpoint must
/// not be something an agent would take for a signed task.
/// </summary>
internal sealed class AuditCheckpointKey : IDisposable
{
    private readonly ECDsa _key;

    private AuditCheckpointKey(ECDsa key, string path)
    {
        _key = key;
        Path = path;
        PublicKey = AuditCheckpoints.PublicKeyOf(key);
    }

    public string Path { get; }

    /// <summary>Base64 SubjectPublicKeyInfo: what verifiers pin.</summary>
    public string PublicKey { get; }

    public string Fingerprint => AuditCheckpoints.Fingerprint(PublicKey);

    public static AuditCheckpointKey LoadOrCreate(string path)
    {
        var key = ECDsa.Create();
        if (File.Exists(path))
        {
            if (PrivateFiles.IsOpenToOthers(path))
            {
                key.Dispose();
                throw new ConfigException($"audit checkpoint key '{path}' can be read or written by other users", $"chmod 600 {path}");
            }

            try
            {
                key.ImportFromPem(File.ReadAllText(path));
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                key.Dispose();
                throw new ConfigException($"audit checkpoint key '{path}' is not an ECDSA private key in PEM form", "restore the file from your backup, or move it away to have a new key created (earlier checkpoints then verify only with the old public key)");
            }

            return new AuditCheckpointKey(key, path);
        }

        key.GenerateKey(ECCurve.NamedCurves.nistP256);
        PrivateFiles.CreateNew(path, key.ExportPkcs8PrivateKeyPem());

        return new AuditCheckpointKey(key, path);
    }

    public AuditCheckpoint Sign(string chain, long seq, string hash, DateTimeOffset at) => AuditCheckpoints.Sign(_key, chain, seq, hash, at);

    public void Dispose() => _key.Dispose();
}
