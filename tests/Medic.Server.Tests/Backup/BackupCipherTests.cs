using System.Security.Cryptography;
using Medic.Server.Backup;

namespace Medic.Server.Tests.Backup;

/// <summary>The encrypted file format: what it returns for the right passphrase, and what it refuses.</summary>
public sealed class BackupCipherTests
{
    private const string Passphrase = "correct horse battery staple";
    private const int ChunkSize = 1000;

    private static byte[] Seal(byte[] plain, string passphrase = Passphrase)
    {
        var output = new MemoryStream();
        using (var sealing = BackupCipher.Encrypt(output, passphrase, iterations: 100_000, chunkSize: ChunkSize))
        {
            // Uneven writes, as an HTTP body arrives.
            for (var i = 0; i < plain.Length; i += 333) sealing.Write(plain.AsSpan(i, Math.Min(333, plain.Length - i)));
        }

        return output.ToArray();
    }

    private static byte[] Open(byte[] file, string passphrase = Passphrase)
    {
        using var plain = BackupCipher.Decrypt(new MemoryStream(file), passphrase);
        var result = new MemoryStream();
        plain.CopyTo(result);
        plain.Completed.ShouldBeTrue();
        return result.ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(ChunkSize)]
    [InlineData((ChunkSize * 2) + 500)]
    public void What_was_sealed_opens_with_the_same_passphrase(int length)
    {
        var plain = RandomNumberGenerator.GetBytes(length);

        var file = Seal(plain);

        file.AsSpan(0, 8).ToArray().ShouldBe("MEDICBAK"u8.ToArray());
        Open(file).ShouldBe(plain);
    }

    [Fact]
    public void A_wrong_passphrase_is_refused_as_wrong_passphrase_or_damaged_file()
    {
        var file = Seal(RandomNumberGenerator.GetBytes(2500));

        var refusal = Should.Throw<BackupFileException>(() => Open(file, "not the passphrase at all"));

        refusal.Message.ShouldBe("wrong passphrase or damaged file");
    }

    [Fact]
    public void A_flipped_byte_anywhere_is_refused()
    {
        var file = Seal(RandomNumberGenerator.GetBytes(2500));

        // Header (magic excepted: that says "not a backup"), each chunk's length, body and tag, the last chunk.
        foreach (var position in new[] { 9, 12, 20, 35, BackupCipher.HeaderLength + 2, BackupCipher.HeaderLength + 500, BackupCipher.HeaderLength + 4 + ChunkSize + 3, file.Length - 1 })
        {
            var damaged = (byte[])file.Clone();
            damaged[position] ^= 0x01;

            var refusal = Should.Throw<BackupFileException>(() => Open(damaged), $"a flipped byte at {position} was not noticed");
            refusal.Message.ShouldContain("damaged", customMessage: $"byte {position}");
        }
    }

    [Fact]
    public void A_file_cut_short_is_refused_even_at_a_chunk_boundary()
    {
        var file = Seal(RandomNumberGenerator.GetBytes(2500));
        var firstTwoChunks = BackupCipher.HeaderLength + (2 * (4 + ChunkSize + 16));

        foreach (var length in new[] { firstTwoChunks, file.Length - 1, BackupCipher.HeaderLength + 3 })
        {
            var refusal = Should.Throw<BackupFileException>(() => Open(file[..length]));
            refusal.Message.ShouldContain("cut short");
        }
    }

    [Fact]
    public void Bytes_after_the_last_chunk_are_refused()
    {
        var file = Seal(RandomNumberGenerator.GetBytes(100));

        var refusal = Should.Throw<BackupFileException>(() => Open([.. file, 0x00]));

        refusal.Message.ShouldContain("data follows the last chunk");
    }

    [Fact]
    public void A_file_that_is_not_a_backup_says_so()
    {
        var refusal = Should.Throw<BackupFileException>(() => Open("SQLite format 3\0 and so on, a database not a backup"u8.ToArray()));

        refusal.Message.ShouldContain("not a Medic backup");
    }
}
