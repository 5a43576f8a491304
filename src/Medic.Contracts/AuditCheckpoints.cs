using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Medic.Contracts;

/// <summary>
/// A chain head signed by the control plane's audit checkpoint key: "entry <see cref="Seq"/> of
/// chain <see cref="Chain"/> had hash <see cref="Hash"/> at <see cref="At"/>". Kept somewhere the
/// database's writer cannot reach, it pins history up to that entry: a rewrite that recomputes
/// every hash still changes the hash at <see cref="Seq"/>.
/// </summary>
/// <param name="PublicKey">The signer's public key, base64 SubjectPublicKeyInfo (ECDSA P-256).</param>
/// <param name="Signature">Base64 ECDSA P-256 / SHA-256 signature (IEEE P1363) over <see cref="AuditCheckpoints.SignedText"/>.</param>
public sealed record AuditCheckpoint(string Chain, long Seq, string Hash, DateTimeOffset At, string PublicKey, string Signature);

/// <summary>The first checkpoint that no longer holds, and why.</summary>
public sealed record AuditCheckpointBreak(long Seq, DateTimeOffset At, string Reason);

/// <summary>The result of checking one chain against the checkpoints given for it.</summary>
public sealed record AuditCheckpointCheck(bool Ok, string Chain, int Checkpoints, long? LatestSeq, AuditCheckpointBreak? FirstBad);

/// <summary>
/// What a checkpoint signs and how a verifier checks checkpoints against a chain, shared by the
/// server (which signs) and the CLI (which verifies the chain it downloads, trusting only the key).
/// </summary>
public static class AuditCheckpoints
{
    private const string Domain = "medic-audit-checkpoint/v1";

    /// <summary>The exact bytes signed: a domain tag, then chain, sequence number, hash and time, one per line.</summary>
    public static string SignedText(string chain, long seq, string hash, DateTimeOffset at) =>
        string.Join('\n', Domain, chain, seq.ToString(CultureInfo.InvariantCulture), hash, AuditChain.FormatTime(at));

    public static AuditCheckpoint Sign(ECDsa key, string chain, long seq, string hash, DateTimeOffset at)
    {
        at = AuditChain.Normalize(at);
        var signature = key.SignData(Encoding.UTF8.GetBytes(SignedText(chain, seq, hash, at)), HashAlgorithmName.SHA256);
        return new AuditCheckpoint(chain, seq, hash, at, PublicKeyOf(key), Convert.ToBase64String(signature));
    }

    public static string PublicKeyOf(ECDsa key) => Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());

    /// <summary>Whether <paramref name="checkpoint"/> was signed by <paramref name="publicKey"/> (base64 SPKI) over its own fields.</summary>
    public static bool SignatureHolds(AuditCheckpoint checkpoint, string publicKey)
    {
        try
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(publicKey), out _);
            return key.VerifyData(
                Encoding.UTF8.GetBytes(SignedText(checkpoint.Chain, checkpoint.Seq, checkpoint.Hash, checkpoint.At)),
                Convert.FromBase64String(checkpoint.Signature),
                HashAlgorithmName.SHA256);
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            return false;
        }
    }

    /// <summary>
    /// Recomputes the chain from <paramref name="entries"/> (oldest first, the whole chain) and checks,
    /// in order of sequence number, that every checkpoint of <paramref name="chain"/> is signed by one
    /// of <paramref name="trustedKeys"/> and that the recomputed hash at its entry is the one it signed.
    /// Hashes are recomputed from the entries' fields, never taken from their stored hash column, so a
    /// chain rewritten with recomputed hashes fails at the first checkpoint before the rewrite's start.
    /// A checkpoint beyond the chain's last entry means entries at the end were deleted.
    /// </summary>
    public static AuditCheckpointCheck Verify(string chain, IEnumerable<AuditEntry> entries, IEnumerable<AuditCheckpoint> checkpoints, IReadOnlyCollection<string> trustedKeys)
    {
        var pending = new Queue<AuditCheckpoint>(checkpoints
            .Where(c => string.Equals(c.Chain, chain, StringComparison.Ordinal))
            .OrderBy(c => c.Seq)
            .ThenBy(c => c.At));
        var count = pending.Count;
        long? latest = count == 0 ? null : pending.Max(c => c.Seq);
        AuditCheckpointCheck Bad(AuditCheckpoint c, string reason) => new(false, chain, count, latest, new AuditCheckpointBreak(c.Seq, c.At, reason));

        var prev = AuditChain.Genesis;
        var expectedSeq = 1L;
        using var e = entries.GetEnumerator();
        while (pending.Count > 0)
        {
            var checkpoint = pending.Peek();
            if (!trustedKeys.Contains(checkpoint.PublicKey, StringComparer.Ordinal))
            {
                return Bad(checkpoint, $"the checkpoint at entry {checkpoint.Seq} was signed by a key that is not trusted ({Fingerprint(checkpoint.PublicKey)})");
            }

            if (!SignatureHolds(checkpoint, checkpoint.PublicKey))
            {
                return Bad(checkpoint, $"the checkpoint at entry {checkpoint.Seq} has a signature that does not verify (the checkpoint was edited or forged)");
            }

            if (checkpoint.Seq < 1)
            {
                return Bad(checkpoint, $"the checkpoint names entry {checkpoint.Seq}, which no chain has");
            }

            // Walk the chain up to the checkpoint's entry, recomputing each hash from the previous one.
            while (expectedSeq <= checkpoint.Seq)
            {
                if (!e.MoveNext())
                {
                    return Bad(checkpoint, $"the chain ends at entry {expectedSeq - 1}, before entry {checkpoint.Seq} that this checkpoint signed (entries were deleted)");
                }

                if (e.Current.Seq != expectedSeq)
                {
                    return Bad(checkpoint, $"entry {expectedSeq} is missing or out of place before entry {checkpoint.Seq} that this checkpoint signed (history was rewritten)");
                }

                prev = AuditChain.ComputeHash(prev, e.Current);
                expectedSeq++;
            }

            if (!string.Equals(prev, checkpoint.Hash, StringComparison.Ordinal))
            {
                return Bad(checkpoint, $"entry {checkpoint.Seq} no longer has the hash this checkpoint signed at {AuditChain.FormatTime(checkpoint.At)} (history up to entry {checkpoint.Seq} was rewritten)");
            }

            pending.Dequeue();
        }

        return new AuditCheckpointCheck(true, chain, count, latest, null);
    }

    /// <summary>A short, stable name for a public key, for messages and listings: the first 16 hex digits of its SHA-256.</summary>
    public static string Fingerprint(string publicKey) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(publicKey)))[..16];
}
