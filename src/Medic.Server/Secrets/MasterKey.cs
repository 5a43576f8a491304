using System.Security.Cryptography;
using Medic.Contracts;
using Medic.Server.Common;

namespace Medic.Server.Secrets;

/// <summary>
/// The 256-bit key that encrypts stored secrets. It lives in a 0600 file in the data directory (or
/// comes from <c>MEDIC_MASTER_KEY</c>, base64) and is never written to the database.
/// </summary>
internal sealed class MasterKey
{
    private MasterKey(byte[] key, string source)
    {
        Key = key;
        Source = source;
    }

    internal byte[] Key { get; }

    /// <summary>Where the key came from, for <c>medic doctor</c>; never the key itself.</summary>
    public string Source { get; }

    public static MasterKey LoadOrCreate(string path, string? fromEnvironment)
    {
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            byte[] key;
            try
            {
                key = Convert.FromBase64String(fromEnvironment.Trim());
            }
            catch (FormatException)
            {
                throw new ConfigException("MEDIC_MASTER_KEY is not base64", "set it to 32 random bytes in base64: head -c32 /dev/urandom | base64");
            }

            return key.Length == 32
                ? new MasterKey(key, "environment variable MEDIC_MASTER_KEY")
                : throw new ConfigException($"MEDIC_MASTER_KEY holds {key.Length} bytes, not 32", "set it to 32 random bytes in base64: head -c32 /dev/urandom | base64");
        }

        if (File.Exists(path))
        {
            if (PrivateFiles.IsOpenToOthers(path))
            {
                throw new ConfigException($"master key file '{path}' can be read or written by other users", $"chmod 600 {path}");
            }

            byte[] key;
            try
            {
                key = Convert.FromBase64String(File.ReadAllText(path).Trim());
            }
            catch (FormatException)
            {
                key = [];
            }

            if (key.Length != 32)
            {
                throw new ConfigException($"master key file '{path}' does not hold 32 base64-encoded bytes", "restore the file from backup; without it stored secrets cannot be read");
            }

            return new MasterKey(key, path);
        }

        var created = RandomNumberGenerator.GetBytes(32);
        PrivateFiles.CreateNew(path, Convert.ToBase64String(created));

        return new MasterKey(created, path);
    }
}
