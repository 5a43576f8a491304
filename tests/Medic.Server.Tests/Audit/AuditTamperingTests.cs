using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Audit;

/// <summary>
/// An attacker with write access to the database first removes the append-only triggers, then
/// edits, deletes or reorders audit rows. Verification (the API and the audit log itself) must
/// notice and name the first entry that no longer holds.
/// </summary>
public sealed class AuditTamperingTests
{
    /// <summary>The tenant chain holds this many entries before the attacker acts.</summary>
    private const int Entries = 10;

    private sealed class Scene : IAsyncDisposable
    {
        private Scene(MedicServer server, string chain)
        {
            Server = server;
            Chain = chain;
        }

        public MedicServer Server { get; }

        public string Chain { get; }

        public TestDatabase Db => Server.Database;

        /// <summary>A running server whose default tenant chain holds <see cref="Entries"/> entries that verify.</summary>
        public static async Task<Scene> CreateAsync(string dialect)
        {
            var server = await MedicServer.StartAsync(dialect);
            try
            {
                using var response = await server.Admin.GetAsync("/api/v1/whoami");
                var me = await response.ReadAsync(MedicJson.Default.WhoAmIResponse);
                var log = server.Service<AuditLog>();
                var existing = (await log.VerifyAsync(me.TenantId)).Checked;
                for (var i = existing + 1; i <= Entries; i++)
                {
                    await log.AppendAsync(new AuditRecord(me.TenantId, "user:admin", "test.event", $"thing:{i}", AuditOutcomes.Success, "127.0.0.1",
                        new Dictionary<string, string> { ["n"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
                }

                var scene = new Scene(server, me.TenantId);
                (await scene.VerifyThroughApiAsync()).Ok.ShouldBeTrue("the untouched chain must verify before the attacker acts");
                (await scene.Db.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log WHERE chain = @chain", new { chain = scene.Chain })).ShouldBe(Entries);
                return scene;
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        /// <summary>What an attacker with database access does first: remove the append-only guard.</summary>
        public Task DisableAppendOnlyTriggersAsync() => Db.ExecuteAsync(Db.IsPostgres
            ? "ALTER TABLE audit_log DISABLE TRIGGER USER"
            : "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");

        public Task<int> TamperAsync(string sql, object? parameters = null) => Db.ExecuteAsync(sql, parameters);

        public async Task<AuditVerification> VerifyThroughApiAsync()
        {
            using var response = await Server.Admin.GetAsync("/api/v1/audit/verify");
            var report = await response.ReadAsync(MedicJson.Default.AuditVerificationReport);
            var chain = report.Chains.ShouldHaveSingleItem();
            chain.Chain.ShouldBe(Chain);
            report.Ok.ShouldBe(chain.Ok);
            return chain;
        }

        public Task<AuditVerification> VerifyInProcessAsync() => Server.Service<AuditLog>().VerifyAsync(Chain);

        /// <summary>Both the API and the audit log report the chain broken at <paramref name="seq"/>.</summary>
        public async Task ShouldBeBrokenAtAsync(long seq, string reason)
        {
            foreach (var (how, result) in new[] { ("GET /api/v1/audit/verify", await VerifyThroughApiAsync()), ("AuditLog.VerifyAsync", await VerifyInProcessAsync()) })
            {
                result.Ok.ShouldBeFalse($"{how} must notice the tampering");
                var broken = result.FirstBroken.ShouldNotBeNull($"{how} must name the broken entry");
                broken.Seq.ShouldBe(seq, $"{how} named the wrong entry: {broken.Reason}");
                broken.Reason.ShouldContain(reason, Case.Sensitive, how);
            }
        }

        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }

    public static TheoryData<string, string, string, string> Edits()
    {
        // Each edit changes one column of entry 5; the SQL is valid on both dialects.
        var edits = new (string Column, string Set, string Reason)[]
        {
            ("actor", "actor = 'user:mallory'", "does not match its hash"),
            ("action", "action = 'nothing.happened'", "does not match its hash"),
            ("target", "target = 'thing:elsewhere'", "does not match its hash"),
            ("outcome", "outcome = 'denied'", "does not match its hash"),
            ("client_address", "client_address = '203.0.113.7'", "does not match its hash"),
            ("details", "details = '{\"n\":\"500\"}'", "does not match its hash"),
            ("at", "at = '2020-01-01T00:00:00.000000Z'", "does not match its hash"),
            ("tenant_id", "tenant_id = 'ten_other'", "does not match its hash"),
            ("id", "id = 'aud_forged'", "does not match its hash"),
            ("hash", "hash = '" + new string('a', 64) + "'", "does not match its hash"),
            ("prev_hash", "prev_hash = '" + new string('b', 64) + "'", "does not link to entry 4"),
        };
        var data = new TheoryData<string, string, string, string>();
        foreach (var dialect in new[] { TestDatabase.Sqlite, TestDatabase.Postgres })
        {
            foreach (var (column, set, reason) in edits)
            {
                data.Add(dialect, column, set, reason);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_untouched_log_verifies(string dialect)
    {
        await using var scene = await Scene.CreateAsync(dialect);

        var api = await scene.VerifyThroughApiAsync();
        var inProcess = await scene.VerifyInProcessAsync();

        foreach (var result in new[] { api, inProcess })
        {
            result.Ok.ShouldBeTrue();
            result.FirstBroken.ShouldBeNull();
            result.Checked.ShouldBe(Entries);
            result.HeadSeq.ShouldBe(Entries);
        }
    }

    [Theory]
    [MemberData(nameof(Edits))]
    public async Task Editing_an_audit_row_breaks_verification_at_that_entry(string dialect, string column, string set, string reason)
    {
        await using var scene = await Scene.CreateAsync(dialect);
        await scene.DisableAppendOnlyTriggersAsync();

        (await scene.TamperAsync($"UPDATE audit_log SET {set} WHERE chain = @chain AND seq = 5", new { chain = scene.Chain })).ShouldBe(1, column);

        await scene.ShouldBeBrokenAtAsync(5, reason);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Deleting_a_middle_row_breaks_verification_at_the_missing_entry(string dialect)
    {
        await using var scene = await Scene.CreateAsync(dialect);
        await scene.DisableAppendOnlyTriggersAsync();

        (await scene.TamperAsync("DELETE FROM audit_log WHERE chain = @chain AND seq = 5", new { chain = scene.Chain })).ShouldBe(1);

        await scene.ShouldBeBrokenAtAsync(5, "entry 5 is missing");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Deleting_the_first_row_breaks_verification_at_entry_1(string dialect)
    {
        await using var scene = await Scene.CreateAsync(dialect);
        await scene.DisableAppendOnlyTriggersAsync();

        await scene.TamperAsync("DELETE FROM audit_log WHERE chain = @chain AND seq = 1", new { chain = scene.Chain });

        await scene.ShouldBeBrokenAtAsync(1, "entry 1 is missing");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Deleting_the_last_rows_breaks_verification_at_the_first_deleted_entry(string dialect)
    {
        await using var scene = await Scene.CreateAsync(dialect);
        await scene.DisableAppendOnlyTriggersAsync();

        (await scene.TamperAsync("DELETE FROM audit_log WHERE chain = @chain AND seq > @keep", new { chain = scene.Chain, keep = Entries - 2 })).ShouldBe(2);

        await scene.ShouldBeBrokenAtAsync(Entries - 1, $"the chain head records {Entries} entries but only {Entries - 2} remain");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Swapping_two_entries_breaks_verification_at_the_earlier_position(string dialect)
    {
        await using var scene = await Scene.CreateAsync(dialect);
        await scene.DisableAppendOnlyTriggersAsync();
        var chain = new { chain = scene.Chain };

        await scene.TamperAsync("UPDATE audit_log SET seq = -4 WHERE chain = @chain AND seq = 4", chain);
        await scene.TamperAsync("UPDATE audit_log SET seq = 4 WHERE chain = @chain AND seq = 7", chain);
        await scene.TamperAsync("UPDATE audit_log SET seq = 7 WHERE chain = @chain AND seq = -4", chain);

        (await scene.Db.QueryAsync<long>("SELECT seq FROM audit_log WHERE chain = @chain ORDER BY seq", chain)).ShouldBe(Enumerable.Range(1, Entries).Select(i => (long)i));
        await scene.ShouldBeBrokenAtAsync(4, "does not link to entry 3");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_console_audit_page_shows_a_broken_chain(string dialect)
    {
        await using var scene = await Scene.CreateAsync(dialect);
        await scene.DisableAppendOnlyTriggersAsync();
        await scene.TamperAsync("DELETE FROM audit_log WHERE chain = @chain AND seq = 3", new { chain = scene.Chain });

        var session = await ConsoleSession.SignInAsync(scene.Server, MedicServer.AdminUsername, MedicServer.AdminPassword);
        var page = await session.GetPageAsync("/audit");

        page.ShouldContain("data-verify=\"broken\"");
        page.ShouldContain("entry 3 does not verify");
    }
}
