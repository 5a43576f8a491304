using System.Net;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Audit;

public sealed class AuditApiTests
{
    private static async Task<string> TenantIdAsync(MedicServer server)
    {
        using var response = await server.Admin.GetAsync("/api/v1/whoami");
        return (await response.ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantId;
    }

    private static async Task AppendAsync(MedicServer server, string tenantId, int count, string actor = "user:admin", string action = "test.event")
    {
        var log = server.Service<AuditLog>();
        for (var i = 0; i < count; i++)
        {
            await log.AppendAsync(new AuditRecord(tenantId, actor, action, $"thing:{i}", AuditOutcomes.Success, "127.0.0.1"));
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_export_is_every_entry_oldest_first_and_verifies_offline(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var tenant = await TenantIdAsync(server);
        await AppendAsync(server, tenant, 7);

        using var response = await server.Admin.GetAsync("/api/v1/audit/export");
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/x-ndjson");
        var entries = lines.Select(l => JsonSerializer.Deserialize(l, MedicJson.Default.AuditEntry)!).ToList();
        entries.Select(e => e.Seq).ShouldBe(Enumerable.Range(1, entries.Count).Select(i => (long)i));
        entries.Count.ShouldBeGreaterThanOrEqualTo(7);
        var offline = AuditChain.Verify(tenant, entries, (entries[^1].Seq, entries[^1].Hash));
        offline.Ok.ShouldBeTrue(offline.FirstBroken?.Reason);
    }

    [Fact]
    public async Task The_list_pages_newest_first_with_before_and_limit()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var tenant = await TenantIdAsync(server);
        await AppendAsync(server, tenant, 10);
        var total = await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log WHERE chain = @tenant", new { tenant });

        var seen = new List<long>();
        long? before = null;
        do
        {
            using var response = await server.Admin.GetAsync("/api/v1/audit?limit=4" + (before is null ? "" : $"&before={before}"));
            var page = await response.ReadAsync(MedicJson.Default.AuditPage);
            page.Items.Count.ShouldBeLessThanOrEqualTo(4);
            seen.AddRange(page.Items.Select(e => e.Seq));
            before = page.NextBefore;
        }
        while (before is not null);

        seen.ShouldBe(Enumerable.Range(1, (int)total).Select(i => (long)i).Reverse());
    }

    [Fact]
    public async Task The_list_filters_by_actor_and_action()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var tenant = await TenantIdAsync(server);
        await AppendAsync(server, tenant, 3, actor: "user:robot", action: "robot.beep");
        await AppendAsync(server, tenant, 2, actor: "user:robot", action: "robot.boop");

        using var byActor = await server.Admin.GetAsync("/api/v1/audit?actor=user:robot");
        using var byBoth = await server.Admin.GetAsync("/api/v1/audit?actor=user:robot&action=robot.boop");

        (await byActor.ReadAsync(MedicJson.Default.AuditPage)).Items.Count.ShouldBe(5);
        (await byBoth.ReadAsync(MedicJson.Default.AuditPage)).Items.ShouldAllBe(e => e.Action == "robot.boop" && e.Actor == "user:robot");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_list_and_the_export_filter_by_target_and_outcome(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var tenant = await TenantIdAsync(server);
        var log = server.Service<AuditLog>();
        await log.AppendAsync(new AuditRecord(tenant, "user:robot", "robot.poke", "thing:a", AuditOutcomes.Success, null));
        await log.AppendAsync(new AuditRecord(tenant, "user:robot", "robot.poke", "thing:a", AuditOutcomes.Denied, null));
        await log.AppendAsync(new AuditRecord(tenant, "user:robot", "robot.poke", "thing:b", AuditOutcomes.Denied, null));

        using var byTarget = await server.Admin.GetAsync("/api/v1/audit?target=thing:a");
        using var byBoth = await server.Admin.GetAsync("/api/v1/audit?target=thing:a&outcome=denied");
        using var export = await server.Admin.GetAsync("/api/v1/audit/export?outcome=denied&action=robot.poke");

        (await byTarget.ReadAsync(MedicJson.Default.AuditPage)).Items.Select(e => e.Outcome).ShouldBe([AuditOutcomes.Denied, AuditOutcomes.Success]);
        var both = (await byBoth.ReadAsync(MedicJson.Default.AuditPage)).Items.ShouldHaveSingleItem();
        (both.Target, both.Outcome).ShouldBe(("thing:a", AuditOutcomes.Denied));
        var exported = (await export.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonSerializer.Deserialize(l, MedicJson.Default.AuditEntry)!).ToList();
        exported.Select(e => e.Target).ShouldBe(["thing:a", "thing:b"]);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_superadmin_verifies_every_chain_at_once_and_sees_which_is_broken(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        (await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"acme","admin_username":"boss"}"""))).StatusCode.ShouldBe(HttpStatusCode.Created);
        var acme = await server.Database.ScalarAsync<string>("SELECT id FROM tenants WHERE slug = 'acme'");
        await server.Database.ExecuteAsync(server.Database.IsPostgres
            ? "ALTER TABLE audit_log DISABLE TRIGGER USER"
            : "DROP TRIGGER audit_log_no_update");
        await server.Database.ExecuteAsync("UPDATE audit_log SET actor = 'user:nobody' WHERE chain = @acme AND seq = 2", new { acme });

        using var all = await server.Admin.GetAsync("/api/v1/audit/verify?all=true");
        using var own = await server.Admin.GetAsync("/api/v1/audit/verify");

        var report = await all.ReadAsync(MedicJson.Default.AuditVerificationReport);
        report.Ok.ShouldBeFalse();
        report.Chains.Select(c => c.Chain).ShouldContain(AuditLog.SystemChain);
        report.Chains.Count.ShouldBe(3, "system, default and acme");
        var broken = report.Chains.Single(c => !c.Ok);
        broken.Chain.ShouldBe(acme);
        broken.FirstBroken.ShouldNotBeNull().Seq.ShouldBe(2);
        (await own.ReadAsync(MedicJson.Default.AuditVerificationReport)).Ok.ShouldBeTrue("the caller's own chain is intact");
    }

    [Fact]
    public async Task Only_a_superadmin_may_verify_every_chain()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        (await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"acme","admin_username":"boss","admin_password":"boss-password-123"}""")))
            .StatusCode.ShouldBe(HttpStatusCode.Created);
        var boss = server.Client(await server.LogInAsync("boss", "boss-password-123", "acme"));

        using var response = await boss.GetAsync("/api/v1/audit/verify?all=true");

        (await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail().ShouldContain("Only superadmins");
    }
}
