using System.Security.Cryptography;

namespace Medic.Server.Common;

/// <summary>Prefixed, time-ordered ids users can tell apart at a glance: <c>usr_…</c>, <c>tok_…</c>.</summary>
internal static class Ids
{
    public static string New(string prefix) => prefix + "_" + Guid.CreateVersion7().ToString("N");

    /// <summary>A random secret of <paramref name="bytes"/> bytes as URL-safe base64 without padding.</summary>
    public static string Secret(int bytes) =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A password a person can type: 20 characters from an unambiguous alphabet (about 100 bits).</summary>
    public static string Password()
    {
        const string alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return RandomNumberGenerator.GetString(alphabet, 20);
    }
}
