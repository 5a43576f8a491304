using System.Security.Cryptography;
using Medic.Contracts.Agent;
using Medic.Contracts;
using Medic.Server.Common;

namespace Medic.Server.Fleet;

/// <summary>
/// The control plane's ECDSA P-256 task-signing key: a 0600 PEM file in the data directory, never
/// in the database. Agents pin its public half at enrollment.
/// </summary>
internal sealed class TaskSigningKey : IDisposable
{
    private readonly ECDsa _key;

    private TaskSigningKey(ECDsa key) => _key = key;

    public string PublicKey => TaskSigning.PublicKey(_key);

    public static TaskSigningKey LoadOrCreate(string path)
    {
        var key = ECDsa.Create();
        if (File.Exists(path))
        {
            if (PrivateFiles.IsOpenToOthers(path))
            {
                key.Dispose();
                throw new ConfigException($"task-signing key '{path}' can be read or written by other users", $"chmod 600 {path}");
            }

            key.ImportFromPem(File.ReadAllText(path));
            return new TaskSigningKey(key);
        }

        key.GenerateKey(ECCurve.NamedCurves.nistP256);
        PrivateFiles.CreateNew(path, key.ExportPkcs8PrivateKeyPem());

        return new TaskSigningKey(key);
    }

    public SignedTask Sign(TaskSpec spec) => TaskSigning.Sign(_key, spec);

    public string PublicKeyPem => TaskSigning.PublicKeyPem(_key);

    /// <summary>Signs a file (an agent binary) by its SHA-256 digest; DER, as openssl and the agent check it.</summary>
    public byte[] SignFileDigest(byte[] sha256) => TaskSigning.SignFileDigest(_key, sha256);

    public void Dispose() => _key.Dispose();
}
