using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Medic.Contracts;

/// <summary>
/// The hashing rules of the audit chain, shared by the server (which appends and verifies) and the
/// CLI (which can verify an exported file offline).
/// </summary>
public static class AuditChain
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>Timestamps are hashed at microsecond precision, which both SQLite text and PostgreSQL keep.</summary>
    public static DateTimeOffset Normalize(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % 10), TimeSpan.Zero);
    }

    public static string FormatTime(DateTimeOffset at) =>
        Normalize(at).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The entry's fields in a fixed order, details sorted by key, as compact JSON. Everything but
    /// the two hashes is covered, including the chain and the sequence number, so moving an entry
    /// to another place or chain is detected.
    /// </summary>
    public static string Canonical(AuditEntry e)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("chain", e.Chain);
            w.WriteNumber("seq", e.Seq);
            w.WriteString("id", e.Id);
            w.WriteString("tenant_id", e.TenantId);
            w.WriteString("at", FormatTime(e.At));
            w.WriteString("actor", e.Actor);
            w.WriteString("action", e.Action);
            w.WriteString("target", e.Target);
            w.WriteString("outcome", e.Outcome);
            w.WriteString("client_address", e.ClientAddress);
            w.WriteStartObject("details");
            foreach (var (key, value) in e.Details.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteString(key, value);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string ComputeHash(string prevHash, AuditEntry e)
    {
        var bytes = Encoding.UTF8.GetBytes(prevHash + Canonical(e));
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    /// <summary>
    /// Checks one chain's entries, given in the order they claim (by sequence number). Reports the
    /// first entry that is missing, edited, or out of place, and whether the chain's recorded head
    /// (when known) matches its last entry, which catches deleted entries at the end.
    /// </summary>
    /// <param name="fromFirstEntry">
    /// For an export of a time range: start at the first entry given and trust its link to the
    /// entries before it, instead of requiring the chain to start at entry 1.
    /// </param>
    /// <param name="after">
    /// For an incremental check: the entries given start right after this entry, already verified,
    /// whose hash the first of them must link to.
    /// </param>
    public static AuditVerification Verify(string chain, IEnumerable<AuditEntry> entries, (long Seq, string Hash)? head, bool fromFirstEntry = false, (long Seq, string Hash)? after = null)
    {
        var expectedSeq = (after?.Seq ?? 0) + 1;
        var prev = after?.Hash ?? Genesis;
        var count = 0L;
        foreach (var e in entries)
        {
            if (count == 0 && fromFirstEntry)
            {
                expectedSeq = e.Seq;
                prev = e.PrevHash;
            }

            count++;
            if (e.Seq != expectedSeq)
            {
                var reason = e.Seq > expectedSeq
                    ? $"entry {expectedSeq} is missing (deleted); the next entry found is {e.Seq}"
                    : $"entry {e.Seq} appears out of order after entry {expectedSeq - 1} (reordered or duplicated)";
                return new AuditVerification(false, chain, count, head?.Seq ?? 0, new AuditBreak(expectedSeq, e.Seq > expectedSeq ? null : e.Id, reason));
            }

            if (!string.Equals(e.PrevHash, prev, StringComparison.Ordinal))
            {
                return new AuditVerification(false, chain, count, head?.Seq ?? 0,
                    new AuditBreak(e.Seq, e.Id, e.Seq == 1 && after is null
                        ? "entry 1 does not start the chain (it was edited or replaced)"
                        : $"entry {e.Seq} does not link to entry {e.Seq - 1} (an earlier entry was edited, deleted or reordered)"));
            }

            if (!string.Equals(ComputeHash(prev, e), e.Hash, StringComparison.Ordinal))
            {
                return new AuditVerification(false, chain, count, head?.Seq ?? 0,
                    new AuditBreak(e.Seq, e.Id, $"entry {e.Seq} does not match its hash (edited or moved)"));
            }

            prev = e.Hash;
            expectedSeq++;
        }

        var last = expectedSeq - 1;
        if (head is { } h && (h.Seq != last || !string.Equals(h.Hash, prev, StringComparison.Ordinal)))
        {
            var reason = h.Seq > last
                ? $"the chain head records {h.Seq} entries but only {last} remain (entries at the end were deleted)"
                : $"the chain head (entry {h.Seq}) does not match the last entry {last}";
            return new AuditVerification(false, chain, count, h.Seq, new AuditBreak(last + 1, null, reason));
        }

        return new AuditVerification(true, chain, count, head?.Seq ?? last, null);
    }
}
