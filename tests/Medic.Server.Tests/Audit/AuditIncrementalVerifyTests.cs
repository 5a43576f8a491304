using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Audit;

/// <summary>
/// Page views verify only what was appended since the chain last verified, from a stored
/// verified-up-to point; `medic audit verify` still recomputes everything.
/// </summary>
public sealed class AuditIncrementalVerifyTests
{
    private static async Task<(MedicServer Server, string Chain)> StartAsync(string dialect, int entries)
    {
        var server = await MedicServer.StartAsync(dialect);
        using var response = await server.Admin.GetAsync("/api/v1/whoami");
        var me = await response.ReadAsync(MedicJson.Default.WhoAmIResponse);
        await AppendAsync(server, me.TenantId, entries);
        return (server, me.TenantId);
    }

    private static async Task AppendAsync(MedicServer server, string chain, int count)
    {
        var log = server.Service<AuditLog>();
        for (var i = 0; i < count; i++)
        {
            await log.AppendAsync(new AuditRecord(chain, "user:admin", "test.event", $"thing:{i}", AuditOutcomes.Success, "127.0.0.1"));
        }
    }

    private static Task DisableAppendOnlyTriggersAsync(TestDatabase db) => db.ExecuteAsync(db.IsPostgres
        ? "ALTER TABLE audit_log DISABLE TRIGGER USER"
        : "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_console_page_view_verifies_only_the_entries_since_the_last_one(string dialect)
    {
        var (server, chain) = await StartAsync(dialect, 10);
        await using var _ = server;
        var session = await ConsoleSession.SignInAsync(server, MedicServer.AdminUsername, MedicServer.AdminPassword);
        await session.GetPageAsync("/audit");
        await AppendAsync(server, chain, 3);
        var head = await server.Database.ScalarAsync<long>("SELECT seq FROM audit_heads WHERE chain = @chain", new { chain });
        var before = await server.Database.ScalarAsync<long>("SELECT seq FROM audit_verified WHERE chain = @chain", new { chain });

        var page = await session.GetPageAsync("/audit");

        page.ShouldContain("data-verify=\"intact\"");
        page.ShouldContain($"Checked the entries added since the last verification: {head - before} entries checked, up to entry {head}.");
        (await server.Database.ScalarAsync<long>("SELECT seq FROM audit_verified WHERE chain = @chain", new { chain })).ShouldBe(head);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Appends_while_a_check_runs_never_look_like_a_broken_chain(string dialect)
    {
        // The head and the entries are read in one snapshot. Read apart, an append between the two
        // reads made an intact chain look broken ("the chain head does not match the last entry").
        var (server, chain) = await StartAsync(dialect, 5);
        await using var _ = server;
        var log = server.Service<AuditLog>();
        using var stop = new CancellationTokenSource();
        var appended = 0;
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await log.AppendAsync(new AuditRecord(chain, "user:admin", "test.event", $"writer:{w}", AuditOutcomes.Success, "127.0.0.1"));
                Interlocked.Increment(ref appended);
            }
        })).ToList();

        // At least 40 checks, and on until the writers have appended 40 entries in between (a loaded
        // machine may give them fewer turns), within a bound.
        var checks = new List<AuditVerification>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        for (var i = 0; i < 40 || (Volatile.Read(ref appended) <= 40 && DateTime.UtcNow < deadline); i++)
        {
            checks.Add(await log.VerifyAsync(chain));
            checks.Add(await log.VerifySinceLastAsync(chain));
        }

        await stop.CancelAsync();
        await Task.WhenAll(writers);

        Volatile.Read(ref appended).ShouldBeGreaterThan(40, "the writers kept appending while the checks ran");
        checks.Where(c => !c.Ok).Select(c => c.FirstBroken!.Reason).ShouldBeEmpty();
        (await log.VerifyAsync(chain)).Ok.ShouldBeTrue();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Incremental_verification_still_detects_tampering_after_the_stored_point(string dialect)
    {
        var (server, chain) = await StartAsync(dialect, 10);
        await using var _ = server;
        var log = server.Service<AuditLog>();
        (await log.VerifySinceLastAsync(chain)).Ok.ShouldBeTrue();
        var point = await server.Database.ScalarAsync<long>("SELECT seq FROM audit_verified WHERE chain = @chain", new { chain });
        await AppendAsync(server, chain, 4);
        await DisableAppendOnlyTriggersAsync(server.Database);

        await server.Database.ExecuteAsync("UPDATE audit_log SET target = 'thing:elsewhere' WHERE chain = @chain AND seq = @seq", new { chain, seq = point + 2 });
        var result = await log.VerifySinceLastAsync(chain);

        result.Ok.ShouldBeFalse();
        result.FirstBroken!.Seq.ShouldBe(point + 2);
        result.FirstBroken.Reason.ShouldContain("does not match its hash");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_verified WHERE chain = @chain", new { chain })).ShouldBe(0, "a break clears the point, so the next check is a full one");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Editing_or_deleting_the_entry_at_the_stored_point_is_detected(string dialect)
    {
        var (server, chain) = await StartAsync(dialect, 10);
        await using var _ = server;
        var log = server.Service<AuditLog>();
        (await log.VerifySinceLastAsync(chain)).Ok.ShouldBeTrue();
        var point = await server.Database.ScalarAsync<long>("SELECT seq FROM audit_verified WHERE chain = @chain", new { chain });
        await AppendAsync(server, chain, 2);
        await DisableAppendOnlyTriggersAsync(server.Database);

        await server.Database.ExecuteAsync("UPDATE audit_log SET actor = 'user:mallory' WHERE chain = @chain AND seq = @point", new { chain, point });
        var edited = await log.VerifySinceLastAsync(chain);

        edited.Ok.ShouldBeFalse();
        edited.FirstBroken!.Seq.ShouldBe(point);

        (await log.VerifySinceLastAsync(chain)).Ok.ShouldBeFalse("without a point, the next check is full and still sees the edit");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_full_verify_still_sees_edits_before_the_stored_point(string dialect)
    {
        var (server, chain) = await StartAsync(dialect, 10);
        await using var _ = server;
        var log = server.Service<AuditLog>();
        (await log.VerifySinceLastAsync(chain)).Ok.ShouldBeTrue();
        await DisableAppendOnlyTriggersAsync(server.Database);
        await server.Database.ExecuteAsync("UPDATE audit_log SET actor = 'user:mallory' WHERE chain = @chain AND seq = 3", new { chain });

        using var response = await server.Admin.GetAsync("/api/v1/audit/verify");
        var full = (await response.ReadAsync(MedicJson.Default.AuditVerificationReport)).Chains.Single();

        full.Ok.ShouldBeFalse();
        full.FirstBroken!.Seq.ShouldBe(3);
        (await log.VerifySinceLastAsync(chain)).Ok.ShouldBeFalse("the failed full verify cleared the point");
    }
}
