using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Storage;

namespace Medic.Server.Audit;

/// <summary>What a caller records; the log adds the chain position, time and hashes.</summary>
public sealed record AuditRecord(
    string? TenantId,
    string Actor,
    string Action,
    string Target,
    string Outcome,
    string? ClientAddress,
    IReadOnlyDictionary<string, string>? Details = null);

public sealed record AuditQuery(
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null,
    string? Actor = null,
    string? Action = null,
    long? Before = null,
    int Limit = 50,
    string? Target = null,
    string? Outcome = null);

/// <summary>
/// The append-only, hash-chained audit log. Each tenant has its own chain (its id is the chain
/// name); events outside any tenant go to the <c>system</c> chain. Appends to one chain are
/// serialized by a row lock on the chain's head, so entries get gap-free sequence numbers.
/// </summary>
public sealed class AuditLog(Database db, TimeProvider time)
{
    public const string SystemChain = "system";

    private const string Columns = "chain, seq, id, tenant_id, at, actor, action, target, outcome, client_address, details, prev_hash, hash";

    public static string ChainOf(string? tenantId) => tenantId ?? SystemChain;

    public Task<AuditEntry> AppendAsync(AuditRecord record, CancellationToken ct = default) =>
        db.WriteAsync((c, tx) => AppendAsync(c, tx, record), ct);

    /// <summary>Appends inside the caller's transaction, so a change and its audit entry commit together.</summary>
    public async Task<AuditEntry> AppendAsync(DbConnection c, DbTransaction tx, AuditRecord record)
    {
        var chain = ChainOf(record.TenantId);
        await c.ExecuteAsync(
            "INSERT INTO audit_heads (chain, seq, hash) VALUES (@chain, 0, @genesis) ON CONFLICT (chain) DO NOTHING",
            new { chain, genesis = AuditChain.Genesis }, tx);
        var head = await c.QuerySingleAsync<HeadRow>(
            "SELECT seq, hash FROM audit_heads WHERE chain = @chain" + db.Dialect.ForUpdate, new { chain }, tx);

        var entry = new AuditEntry(
            chain,
            head.Seq + 1,
            Ids.New("aud"),
            record.TenantId,
            AuditChain.Normalize(time.GetUtcNow()),
            Truncate(record.Actor, 200),
            Truncate(record.Action, 100),
            Truncate(record.Target, 300),
            record.Outcome,
            record.ClientAddress,
            record.Details ?? new Dictionary<string, string>(),
            head.Hash,
            "");
        entry = entry with { Hash = AuditChain.ComputeHash(head.Hash, entry) };

        await c.ExecuteAsync(
            $"INSERT INTO audit_log ({Columns}) VALUES (@Chain, @Seq, @Id, @TenantId, @At, @Actor, @Action, @Target, @Outcome, @ClientAddress, @Details, @PrevHash, @Hash)",
            new
            {
                entry.Chain, entry.Seq, entry.Id, entry.TenantId, entry.At, entry.Actor, entry.Action, entry.Target,
                entry.Outcome, entry.ClientAddress, Details = SerializeDetails(entry.Details), entry.PrevHash, entry.Hash,
            }, tx);
        await c.ExecuteAsync("UPDATE audit_heads SET seq = @Seq, hash = @Hash WHERE chain = @Chain", new { entry.Seq, entry.Hash, entry.Chain }, tx);
        return entry;
    }

    /// <summary>Newest first, filtered, paged by sequence number (<see cref="AuditQuery.Before"/>).</summary>
    public async Task<AuditPage> QueryAsync(string chain, AuditQuery q, CancellationToken ct = default)
    {
        var limit = Math.Clamp(q.Limit, 1, 500);
        var sql = $"SELECT {Columns} FROM audit_log WHERE chain = @chain" + Filters(q) + " ORDER BY seq DESC LIMIT @take";
        await using var c = await db.OpenAsync(ct);
        var rows = (await c.QueryAsync<AuditRow>(sql, Parameters(chain, q, limit + 1))).Select(r => r.ToEntry()).ToList();
        long? next = rows.Count > limit ? rows[limit - 1].Seq : null;
        return new AuditPage(rows.Take(limit).ToList(), next);
    }

    /// <summary>Oldest first, streamed in batches so an export of any size runs in bounded memory.</summary>
    public async IAsyncEnumerable<AuditEntry> ReadChainAsync(string chain, AuditQuery? filter = null, [EnumeratorCancellation] CancellationToken ct = default)
    {
        filter ??= new AuditQuery();
        const int batch = 1000;
        var after = 0L;
        while (true)
        {
            List<AuditEntry> rows;
            await using (var c = await db.OpenAsync(ct))
            {
                var sql = $"SELECT {Columns} FROM audit_log WHERE chain = @chain AND seq > @after" + Filters(filter with { Before = null }) + " ORDER BY seq LIMIT @take";
                var p = Parameters(chain, filter with { Before = null }, batch);
                p.Add("after", after);
                rows = (await c.QueryAsync<AuditRow>(sql, p)).Select(r => r.ToEntry()).ToList();
            }

            foreach (var row in rows)
            {
                yield return row;
            }

            if (rows.Count < batch)
            {
                yield break;
            }

            after = rows[^1].Seq;
        }
    }

    /// <summary>
    /// The chain's entries about any of <paramref name="targets"/> (<c>incident:ID</c>, <c>approval:ID</c>, ...)
    /// from <paramref name="since"/> on, oldest first, at most <paramref name="limit"/>. The time bound
    /// keeps the read on the (chain, at) index instead of the whole chain.
    /// </summary>
    public async Task<IReadOnlyList<AuditEntry>> ForTargetsAsync(string chain, IReadOnlyCollection<string> targets, DateTimeOffset since, int limit, CancellationToken ct = default)
    {
        if (targets.Count == 0) return [];
        var p = new DynamicParameters();
        p.Add("chain", chain);
        p.Add("since", since);
        p.Add("take", limit);
        var names = new List<string>(targets.Count);
        foreach (var (target, i) in targets.Distinct(StringComparer.Ordinal).Select((t, i) => (t, i)))
        {
            // Spelled out: Dapper's IN-list expansion differs between the providers.
            names.Add("@t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            p.Add("t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), target);
        }

        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<AuditRow>(
            $"SELECT {Columns} FROM audit_log WHERE chain = @chain AND at >= @since AND target IN ({string.Join(", ", names)}) ORDER BY seq LIMIT @take", p))
            .Select(r => r.ToEntry()).ToList();
    }

    /// <summary>
    /// Recomputes the whole chain from entry 1 (<c>medic audit verify</c>). A chain that verifies
    /// becomes the starting point of later incremental checks; a broken one clears that point.
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(string chain, CancellationToken ct = default) => (await VerifyFullAsync(chain, ct)).Result;

    /// <summary>
    /// Checks only what was appended since the chain last verified (page views, the checkpointer):
    /// the entry at the stored verified-up-to point must still hash to the stored hash, and every
    /// later entry must link to it, and the number of entries up to it must still be its sequence
    /// number (a deletion before it). Edits before that point are left to the full
    /// <see cref="VerifyAsync"/>; without a point (first run, or after a break) this is the full check.
    /// </summary>
    public async Task<AuditVerification> VerifySinceLastAsync(string chain, CancellationToken ct = default) => (await VerifyNewAsync(chain, ct)).Result;

    /// <summary>The incremental check, and the head it verified up to (for signing it).</summary>
    internal async Task<(AuditVerification Result, (long Seq, string Hash)? Head)> VerifyNewAsync(string chain, CancellationToken ct)
    {
        // One snapshot for the head, the point and the entries between them: appends that commit
        // meanwhile are simply not seen, instead of looking like a head that ran ahead of its entries.
        var read = await db.ReadSnapshotAsync<NewEntries>(async (c, tx) =>
        {
            var head = await c.QuerySingleOrDefaultAsync<HeadRow>("SELECT seq, hash FROM audit_heads WHERE chain = @chain", new { chain }, tx);
            var point = await c.QuerySingleOrDefaultAsync<HeadRow>("SELECT seq, hash FROM audit_verified WHERE chain = @chain", new { chain }, tx);
            if (head is null || point is null || point.Seq > head.Seq)
            {
                return new NewEntries(head, null, null, 0, null);
            }

            var anchor = (await c.QuerySingleOrDefaultAsync<AuditRow>($"SELECT {Columns} FROM audit_log WHERE chain = @chain AND seq = @seq", new { chain, seq = point.Seq }, tx))?.ToEntry();
            // Counting the entries up to the point (an index range, no hashing) notices a deletion before it.
            var before = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM audit_log WHERE chain = @chain AND seq <= @seq", new { chain, seq = point.Seq }, tx);
            return new NewEntries(head, point, anchor, before, await ReadRangeAsync(c, tx, chain, point.Seq, head.Seq, ct));
        }, ct);

        // The anchor is recomputed from its own fields, so editing it (or deleting it) is noticed here,
        // and so is a deletion before it; then the full check says where the chain breaks.
        if (read is not { Head: { } h, Point: { } p, Anchor: { } anchor, Entries: { } entries } || read.Before != p.Seq
            || !string.Equals(AuditChain.ComputeHash(anchor.PrevHash, anchor), p.Hash, StringComparison.Ordinal)
            || !string.Equals(anchor.Hash, p.Hash, StringComparison.Ordinal))
        {
            return await VerifyFullAsync(chain, ct);
        }

        var result = AuditChain.Verify(chain, entries, (h.Seq, h.Hash), after: (p.Seq, p.Hash));
        await RecordVerifiedAsync(chain, result.Ok ? h : null, ct);
        return (result, result.Ok ? (h.Seq, h.Hash) : null);
    }

    private async Task<(AuditVerification Result, (long Seq, string Hash)? Head)> VerifyFullAsync(string chain, CancellationToken ct)
    {
        var (head, entries) = await db.ReadSnapshotAsync(async (c, tx) =>
        {
            var row = await c.QuerySingleOrDefaultAsync<HeadRow>("SELECT seq, hash FROM audit_heads WHERE chain = @chain", new { chain }, tx);
            // Everything in the chain, also past the head: a row inserted beyond it is tampering.
            return (row, await ReadRangeAsync(c, tx, chain, 0, long.MaxValue, ct));
        }, ct);

        var result = AuditChain.Verify(chain, entries, head is null ? null : (head.Seq, head.Hash));
        await RecordVerifiedAsync(chain, result.Ok ? head : null, ct);
        return (result, result.Ok && head is not null ? (head.Seq, head.Hash) : null);
    }

    /// <summary>Moves the verified-up-to point forward (never back, when checks overlap), or clears it after a break.</summary>
    private Task RecordVerifiedAsync(string chain, HeadRow? verified, CancellationToken ct) => db.WriteAsync(async (c, tx) =>
    {
        if (verified is null)
        {
            await c.ExecuteAsync("DELETE FROM audit_verified WHERE chain = @chain", new { chain }, tx);
            return 0;
        }

        return await c.ExecuteAsync(
            "INSERT INTO audit_verified (chain, seq, hash, verified_at) VALUES (@chain, @Seq, @Hash, @now) "
            + "ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, verified_at = excluded.verified_at WHERE audit_verified.seq < excluded.seq",
            new { chain, verified.Seq, verified.Hash, now = time.GetUtcNow() }, tx);
    }, ct);

    /// <summary>Entries after <paramref name="after"/> up to and including <paramref name="upTo"/>, oldest first, read in batches within the caller's snapshot.</summary>
    private static async Task<List<AuditEntry>> ReadRangeAsync(DbConnection c, DbTransaction tx, string chain, long after, long upTo, CancellationToken ct)
    {
        const int batch = 1000;
        var entries = new List<AuditEntry>();
        while (after < upTo)
        {
            ct.ThrowIfCancellationRequested();
            var rows = (await c.QueryAsync<AuditRow>(
                $"SELECT {Columns} FROM audit_log WHERE chain = @chain AND seq > @after AND seq <= @upTo ORDER BY seq LIMIT @take",
                new { chain, after, upTo, take = batch }, tx)).Select(r => r.ToEntry()).ToList();
            entries.AddRange(rows);
            if (rows.Count < batch)
            {
                break;
            }

            after = rows[^1].Seq;
        }

        return entries;
    }

    public async Task<IReadOnlyList<string>> ChainsAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<string>("SELECT chain FROM audit_heads ORDER BY chain")).ToList();
    }

    private static string Filters(AuditQuery q) =>
        (q.Since is null ? "" : " AND at >= @since")
        + (q.Until is null ? "" : " AND at < @until")
        + (q.Actor is null ? "" : " AND actor = @actor")
        + (q.Action is null ? "" : " AND action = @action")
        + (q.Target is null ? "" : " AND target = @target")
        + (q.Outcome is null ? "" : " AND outcome = @outcome")
        + (q.Before is null ? "" : " AND seq < @before");

    private static DynamicParameters Parameters(string chain, AuditQuery q, int take)
    {
        var p = new DynamicParameters();
        p.Add("chain", chain);
        p.Add("take", take);
        if (q.Since is { } since) p.Add("since", since);
        if (q.Until is { } until) p.Add("until", until);
        if (q.Actor is { } actor) p.Add("actor", actor);
        if (q.Action is { } action) p.Add("action", action);
        if (q.Target is { } target) p.Add("target", target);
        if (q.Outcome is { } outcome) p.Add("outcome", outcome);
        if (q.Before is { } before) p.Add("before", before);
        return p;
    }

    private static string Truncate(string s, int max) => Texts.Truncate(s, max);

    internal static string SerializeDetails(IReadOnlyDictionary<string, string> details) =>
        JsonSerializer.Serialize(details.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value), AuditJson.Default.DictionaryStringString);

    /// <summary>What the incremental check reads in one snapshot.</summary>
    private sealed record NewEntries(HeadRow? Head, HeadRow? Point, AuditEntry? Anchor, long Before, List<AuditEntry>? Entries);

    private sealed class HeadRow
    {
        public long Seq { get; set; }
        public string Hash { get; set; } = "";
    }

    private sealed class AuditRow
    {
        public string Chain { get; set; } = "";
        public long Seq { get; set; }
        public string Id { get; set; } = "";
        public string? TenantId { get; set; }
        public DateTimeOffset At { get; set; }
        public string Actor { get; set; } = "";
        public string Action { get; set; } = "";
        public string Target { get; set; } = "";
        public string Outcome { get; set; } = "";
        public string? ClientAddress { get; set; }
        public string Details { get; set; } = "{}";
        public string PrevHash { get; set; } = "";
        public string Hash { get; set; } = "";

        public AuditEntry ToEntry()
        {
            IReadOnlyDictionary<string, string> details;
            try
            {
                details = JsonSerializer.Deserialize(Details, AuditJson.Default.DictionaryStringString) ?? [];
            }
            catch (JsonException)
            {
                // A details column edited into invalid JSON still has to reach the verifier, which then reports the entry.
                details = new Dictionary<string, string> { ["unreadable"] = Details };
            }

            return new AuditEntry(Chain, Seq, Id, TenantId, At, Actor, Action, Target, Outcome, ClientAddress, details, PrevHash, Hash);
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class AuditJson : System.Text.Json.Serialization.JsonSerializerContext;
