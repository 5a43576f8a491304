using System.Diagnostics;
using Medic.Contracts;
using Medic.Server.Fleet;
using Medic.Server.Storage;
using Medic.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Medic.Server.Tests.Fleet;

/// <summary>The console's servers list: one page at a time, filtered in the database, on both dialects.</summary>
public sealed class ServerListQueryTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static async Task<(TestDatabase Db, NodeStore Nodes)> FleetAsync(string dialect, string dir)
    {
        var db = await TestDatabase.CreateAsync(dialect, dir);
        await new Migrator(db.Database).ApplyAsync();
        await db.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES ('ten_1', 'one', 'One', @at), ('ten_2', 'two', 'Two', @at)", new { at = Noon });
        return (db, new NodeStore(db.Database));
    }

    private static Task AddNodeAsync(TestDatabase db, string tenant, string id, string name, string status, Dictionary<string, string> tags, DateTimeOffset? removed = null) =>
        db.ExecuteAsync("INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at, removed_at) VALUES (@id, @tenant, @name, @tags, @status, @at, @removed)",
            new { id, tenant, name, tags = Tags.Serialize(tags), status, at = Noon, removed });

    private static Task AddIncidentAsync(TestDatabase db, string id, string serverId, DateTimeOffset? resolved) =>
        db.ExecuteAsync(
            "INSERT INTO incidents (id, tenant_id, server_id, source, type, severity, status, fingerprint, title, labels, signal_count, flap_window_start, first_seen_at, last_seen_at, resolved_at, updated_at) " +
            "VALUES (@id, 'ten_1', @serverId, 'agent', 'disk', 'warning', @status, @id, 'Disk filling', '{}', 1, @at, @at, @at, @resolved, @at)",
            new { id, serverId, status = resolved is null ? "open" : "resolved", at = Noon, resolved });

    private static async Task<(TestDatabase Db, NodeStore Nodes)> SmallFleetAsync(string dialect, string dir)
    {
        var (db, nodes) = await FleetAsync(dialect, dir);
        await AddNodeAsync(db, "ten_1", "nod_1", "web-1", "online", new() { ["env"] = "prod", ["role"] = "web" });
        await AddNodeAsync(db, "ten_1", "nod_2", "web-2", "offline", new() { ["env"] = "dev", ["role"] = "web" });
        await AddNodeAsync(db, "ten_1", "nod_3", "db-1", "online", new() { ["env"] = "prod", ["role"] = "db" });
        await AddNodeAsync(db, "ten_1", "nod_4", "a_b", "online", []);
        await AddNodeAsync(db, "ten_1", "nod_5", "axb", "online", []);
        await AddNodeAsync(db, "ten_1", "nod_6", "web-old", "offline", new() { ["role"] = "web" }, removed: Noon);
        await AddNodeAsync(db, "ten_2", "nod_7", "web-9", "offline", new() { ["role"] = "web" });
        await AddIncidentAsync(db, "inc_1", "nod_2", resolved: null);
        await AddIncidentAsync(db, "inc_2", "nod_1", resolved: Noon);
        return (db, nodes);
    }

    /// <summary>The page's names and the total, as one line: "web-1 web-2 (2)".</summary>
    private static async Task<string> NamesAsync(NodeStore nodes, ServerListQuery q, string tenant = "ten_1")
    {
        var page = await nodes.PageAsync(tenant, q);
        return $"{string.Join(' ', page.Items.Select(i => i.Name))} ({page.Total})";
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Every_filter_is_applied_by_the_database_and_the_tenant_sees_only_its_own_servers(string dialect)
    {
        using var dir = new TempDirectory();
        var (db, nodes) = await SmallFleetAsync(dialect, dir.Path);
        await using (db)
        {
            (await NamesAsync(nodes, new())).ShouldBe("a_b axb db-1 web-1 web-2 (5)");
            (await NamesAsync(nodes, new(Text: "WEB"))).ShouldBe("web-1 web-2 (2)");
            // '_' is a character to find, not a LIKE wildcard.
            (await NamesAsync(nodes, new(Text: "a_b"))).ShouldBe("a_b (1)");
            (await NamesAsync(nodes, new(Status: NodeStatus.Offline))).ShouldBe("web-2 (1)");
            (await NamesAsync(nodes, new(WithOpenIncidents: true))).ShouldBe("web-2 (1)");
            (await NamesAsync(nodes, new(Environment: "prod"))).ShouldBe("db-1 web-1 (2)");
            (await NamesAsync(nodes, new(Tags: new Dictionary<string, string> { ["role"] = "web" }, Environment: "prod"))).ShouldBe("web-1 (1)");
            (await NamesAsync(nodes, new(Tags: new Dictionary<string, string> { ["role"] = "we" }))).ShouldBe(" (0)");
            (await NamesAsync(nodes, new(Skip: 2, Take: 2))).ShouldBe("db-1 web-1 (5)");
            (await NamesAsync(nodes, new(), "ten_2")).ShouldBe("web-9 (1)");

            var page = await nodes.PageAsync("ten_1", new(Text: "web"));
            page.Items.Single(i => i.Name == "web-2").OpenIncidents.ShouldBe(1);
            page.Items.Single(i => i.Name == "web-1").OpenIncidents.ShouldBe(0); // its incident is resolved
            page.Items.Single(i => i.Name == "web-1").TagMap["env"].ShouldBe("prod");
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_page_of_ten_thousand_servers_is_the_right_slice(string dialect)
    {
        using var dir = new TempDirectory();
        var (db, nodes) = await FleetAsync(dialect, dir.Path);
        await using (db)
        {
            await db.ExecuteAsync(
                "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 10000) " +
                "INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at) SELECT 'nod_' || CAST(i AS TEXT), 'ten_1', 'srv-' || CAST(100000 + i AS TEXT), " +
                "CASE WHEN i % 10 = 0 THEN '{\"env\":\"prod\"}' ELSE '{\"env\":\"dev\"}' END, CASE WHEN i % 3 = 0 THEN 'offline' ELSE 'online' END, @at FROM seq",
                new { at = Noon });
            for (var i = 1; i <= 100; i++) await AddIncidentAsync(db, $"inc_{i}", $"nod_{i * 7}", resolved: null);
            // Fresh tables have no planner statistics; autovacuum gathers them soon after a load like this.
            if (db.IsPostgres) await db.ExecuteAsync("ANALYZE nodes; ANALYZE incidents");

            async Task<ServerListPage> TimedAsync(string what, ServerListQuery q)
            {
                await nodes.PageAsync("ten_1", q); // the second run is the one timed: plans and pages cached, as on a busy console
                var watch = Stopwatch.StartNew();
                var page = await nodes.PageAsync("ten_1", q);
                output.WriteLine($"{dialect}: {what}: {watch.Elapsed.TotalMilliseconds:0} ms");
                return page;
            }

            var middle = await TimedAsync("page 101 of 10,000", new(Skip: 5000, Take: 50));
            middle.Total.ShouldBe(10000);
            middle.Items.Count.ShouldBe(50);
            middle.Items[0].Name.ShouldBe("srv-105001");

            var prodOffline = await TimedAsync("name, env and status filter", new(Text: "srv-10", Environment: "prod", Status: NodeStatus.Offline, Take: 50));
            prodOffline.Total.ShouldBe(333); // multiples of 30 up to 10,000 (every name contains srv-10)
            prodOffline.Items[0].Name.ShouldBe("srv-100030");

            var withIncidents = await TimedAsync("with open incidents", new(WithOpenIncidents: true, Take: 50));
            withIncidents.Total.ShouldBe(100);
            withIncidents.Items[0].Name.ShouldBe("srv-100007");
            withIncidents.Items[0].OpenIncidents.ShouldBe(1);
        }
    }
}
