using System.Security.Cryptography;
using System.Text;

namespace Medic.Server.Secrets;

/// <summary>
/// AES-256-GCM under the master key, for secrets the control plane must read back (a tenant's
/// webhook signing secret, say). A sealed value is <c>v1.</c> + base64(nonce | ciphertext | tag).
/// The associated data binds a value to where it is stored (tenant, kind, row id), so a sealed
/// value copied into another row or tenant fails to open.
/// </summary>
internal sealed class SecretBox(MasterKey key)
{
    private const string Version = "v1.";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public string Seal(string plaintext, string associatedData)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var sealedBytes = new byte[NonceSize + plain.Length + TagSize];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key.Key, TagSize);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize, plain.Length), sealedBytes.AsSpan(NonceSize + plain.Length), Encoding.UTF8.GetBytes(associatedData));
        return Version + Convert.ToBase64String(sealedBytes);
    }

    /// <summary>The plaintext, or null when the value is not one this key sealed for <paramref name="associatedData"/> (tampered, moved, or another key).</summary>
    public string? Open(string sealedValue, string associatedData)
    {
        if (!sealedValue.StartsWith(Version, StringComparison.Ordinal))
        {
            return null;
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(sealedValue[Version.Length..]);
        }
        catch (FormatException)
        {
            return null;
        }

        if (bytes.Length < NonceSize + TagSize)
        {
            return null;
        }

        var plainLength = bytes.Length - NonceSize - TagSize;
        var plain = new byte[plainLength];
        try
        {
            using var aes = new AesGcm(key.Key, TagSize);
            aes.Decrypt(bytes.AsSpan(0, NonceSize), bytes.AsSpan(NonceSize, plainLength), bytes.AsSpan(NonceSize + plainLength), plain, Encoding.UTF8.GetBytes(associatedData));
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }

        return Encoding.UTF8.GetString(plain);
    }
}
