using System.Data.Common;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;
using Medic.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Medic.Server.Tests.Audit;

public sealed class AuditLogStorageTests
{
    private const string Chain = "ten_audit_storage";

    /// <summary>A migrated database of its own and an audit log on it, without a server.</summary>
    private sealed class Store : IAsyncDisposable
    {
        private readonly TempDirectory _dir;

        private Store(TempDirectory dir, TestDatabase db)
        {
            _dir = dir;
            Db = db;
            Log = new AuditLog(db.Database, TimeProvider.System);
        }

        public TestDatabase Db { get; }

        public AuditLog Log { get; }

        public static async Task<Store> CreateAsync(string dialect)
        {
            var dir = new TempDirectory();
            var db = await TestDatabase.CreateAsync(dialect, dir.Path);
            await new Migrator(db.Database).ApplyAsync();
            return new Store(dir, db);
        }

        public async ValueTask DisposeAsync()
        {
            await Db.DisposeAsync();
            _dir.Dispose();
        }
    }

    private static AuditRecord Record(int n, string? tenant = Chain) =>
        new(tenant, $"user:u{n}", "test.append", $"thing:{n}", AuditOutcomes.Success, "127.0.0.1",
            new Dictionary<string, string> { ["n"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture), ["b"] = "second key", ["a"] = "first key" });

    private static async Task<List<AuditEntry>> ReadAllAsync(AuditLog log, string chain)
    {
        var entries = new List<AuditEntry>();
        await foreach (var e in log.ReadChainAsync(chain))
        {
            entries.Add(e);
        }

        return entries;
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Appended_entries_get_consecutive_sequence_numbers_each_linked_to_the_one_before(string dialect)
    {
        await using var store = await Store.CreateAsync(dialect);
        var (db, log) = (store.Db, store.Log);

        var appended = new List<AuditEntry>();
        for (var i = 1; i <= 5; i++)
        {
            appended.Add(await log.AppendAsync(Record(i)));
        }

        var stored = await ReadAllAsync(log, Chain);
        stored.Select(e => e.Seq).ShouldBe([1L, 2, 3, 4, 5]);
        stored[0].PrevHash.ShouldBe(AuditChain.Genesis);
        for (var i = 1; i < stored.Count; i++)
        {
            stored[i].PrevHash.ShouldBe(stored[i - 1].Hash, $"entry {stored[i].Seq} must link to entry {stored[i - 1].Seq}");
        }

        foreach (var (written, read) in appended.Zip(stored))
        {
            read.Hash.ShouldBe(written.Hash);
            read.Hash.ShouldBe(AuditChain.ComputeHash(read.PrevHash, read), "the stored row must hash to its stored hash");
            read.At.ShouldBe(written.At);
            read.Details.ShouldBe(written.Details, ignoreOrder: true);
        }

        (await log.VerifyAsync(Chain)).ShouldSatisfyAllConditions(
            v => v.Ok.ShouldBeTrue(),
            v => v.Checked.ShouldBe(5),
            v => v.HeadSeq.ShouldBe(5));
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Concurrent_appends_to_one_chain_leave_no_gap_and_no_duplicate(string dialect)
    {
        await using var store = await Store.CreateAsync(dialect);
        var (db, log) = (store.Db, store.Log);
        // A second connection source, as a second replica (PostgreSQL) or second writer (SQLite) would have.
        await using var other = Database.FromUrl(db.Url);
        var otherLog = new AuditLog(other, TimeProvider.System);

        await Task.WhenAll(Enumerable.Range(1, 40).Select(i => Task.Run(() => (i % 2 == 0 ? log : otherLog).AppendAsync(Record(i)))));

        var stored = await ReadAllAsync(log, Chain);
        stored.Select(e => e.Seq).ShouldBe(Enumerable.Range(1, 40).Select(i => (long)i));
        stored.Select(e => e.Target).Distinct().Count().ShouldBe(40);
        (await log.VerifyAsync(Chain)).Ok.ShouldBeTrue();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Each_tenant_has_its_own_chain_and_events_outside_tenants_go_to_the_system_chain(string dialect)
    {
        await using var store = await Store.CreateAsync(dialect);
        var (db, log) = (store.Db, store.Log);

        var a1 = await log.AppendAsync(Record(1, "ten_a"));
        var b1 = await log.AppendAsync(Record(2, "ten_b"));
        var a2 = await log.AppendAsync(Record(3, "ten_a"));
        var s1 = await log.AppendAsync(Record(4, tenant: null));

        (a1.Chain, a1.Seq, a2.Seq, a2.PrevHash).ShouldBe(("ten_a", 1L, 2L, a1.Hash));
        (b1.Chain, b1.Seq, b1.PrevHash).ShouldBe(("ten_b", 1L, AuditChain.Genesis));
        (s1.Chain, s1.Seq).ShouldBe((AuditLog.SystemChain, 1L));
        (await log.ChainsAsync()).ShouldBe(["system", "ten_a", "ten_b"]);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_database_refuses_to_update_an_audit_row(string dialect)
    {
        await using var store = await Store.CreateAsync(dialect);
        var (db, log) = (store.Db, store.Log);
        await log.AppendAsync(Record(1));
        var before = await db.SnapshotAsync("audit_log");

        var error = await Should.ThrowAsync<DbException>(() => db.ExecuteAsync("UPDATE audit_log SET actor = 'user:mallory' WHERE seq = 1"));

        ShouldBeAppendOnlyRefusal(error, "UPDATE");
        (await db.SnapshotAsync("audit_log")).ShouldBe(before);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_database_refuses_to_delete_an_audit_row(string dialect)
    {
        await using var store = await Store.CreateAsync(dialect);
        var (db, log) = (store.Db, store.Log);
        await log.AppendAsync(Record(1));
        await log.AppendAsync(Record(2));
        var before = await db.SnapshotAsync("audit_log");

        var error = await Should.ThrowAsync<DbException>(() => db.ExecuteAsync("DELETE FROM audit_log WHERE seq = 2"));

        ShouldBeAppendOnlyRefusal(error, "DELETE");
        (await db.SnapshotAsync("audit_log")).ShouldBe(before);
        (await log.VerifyAsync(Chain)).Ok.ShouldBeTrue();
    }

    [Fact]
    public async Task PostgreSQL_refuses_to_truncate_the_audit_log()
    {
        await using var store = await Store.CreateAsync(TestDatabase.Postgres);
        var (db, log) = (store.Db, store.Log);
        await log.AppendAsync(Record(1));

        var error = await Should.ThrowAsync<DbException>(() => db.ExecuteAsync("TRUNCATE audit_log"));

        ShouldBeAppendOnlyRefusal(error, "TRUNCATE");
        (await db.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log")).ShouldBe(1);
    }

    private static void ShouldBeAppendOnlyRefusal(DbException error, string operation)
    {
        switch (error)
        {
            case SqliteException sqlite:
                sqlite.SqliteErrorCode.ShouldBe(19, sqlite.Message); // SQLITE_CONSTRAINT, what RAISE(ABORT) reports
                sqlite.Message.ShouldContain($"audit_log is append-only: {operation} is refused");
                break;
            case PostgresException postgres:
                postgres.SqlState.ShouldBe(PostgresErrorCodes.RaiseException);
                postgres.MessageText.ShouldBe($"audit_log is append-only: {operation} is refused");
                break;
            default:
                throw new ShouldAssertException($"unexpected database error {error.GetType().Name}: {error.Message}");
        }
    }
}
