using Medic.Contracts.Agent;
using Medic.Server.Fleet;
using Medic.Server.Storage;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Fleet;

/// <summary>Heartbeats become one point per minute, kept 24 hours, per server and tenant.</summary>
public sealed class MetricsHistoryTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static Metrics At(DateTimeOffset at, double cpu) =>
        new(at, cpu, 0.5, 0.4, 0.3, 8L << 30, 2L << 30, 0, 0, [new MountUsage("/", 100L << 30, 40L << 30, 1000, 100)], 10, 20, 150, 3600);

    private static async Task<(TestDatabase Db, NodeStore Nodes)> WithNodeAsync(string dialect, string dir)
    {
        var db = await TestDatabase.CreateAsync(dialect, dir);
        await new Migrator(db.Database).ApplyAsync();
        await db.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES ('ten_1', 'one', 'One', @at)", new { at = Noon });
        await db.ExecuteAsync("INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at) VALUES ('nod_1', 'ten_1', 'web-1', '{}', 'online', @at)", new { at = Noon });
        return (db, new NodeStore(db.Database));
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_last_heartbeat_of_each_minute_is_kept_and_points_older_than_24_hours_are_pruned(string dialect)
    {
        using var dir = new TempDirectory();
        var (db, nodes) = await WithNodeAsync(dialect, dir.Path);
        await using (db)
        {
            var old = Noon.AddHours(-25);
            await nodes.RecordHeartbeatAsync("nod_1", At(old, 90), old);
            await nodes.RecordHeartbeatAsync("nod_1", At(Noon.AddSeconds(5), 10), Noon.AddSeconds(5));
            await nodes.RecordHeartbeatAsync("nod_1", At(Noon.AddSeconds(50), 20), Noon.AddSeconds(50));
            await nodes.RecordHeartbeatAsync("nod_1", At(Noon.AddSeconds(65), 30), Noon.AddSeconds(65));

            var points = await nodes.HistoryAsync("ten_1", "nod_1", Noon.AddDays(-2));

            points.Select(p => p.Minute).ShouldBe([Noon, Noon.AddMinutes(1)]);
            points.Select(p => p.Metrics.CpuPercent).ShouldBe([20, 30]);
            (await db.ScalarAsync<long>("SELECT COUNT(*) FROM node_metrics")).ShouldBe(2);
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task History_is_read_only_within_the_callers_tenant(string dialect)
    {
        using var dir = new TempDirectory();
        var (db, nodes) = await WithNodeAsync(dialect, dir.Path);
        await using (db)
        {
            await nodes.RecordHeartbeatAsync("nod_1", At(Noon, 10), Noon);

            (await nodes.HistoryAsync("ten_1", "nod_1", Noon.AddHours(-1))).Count.ShouldBe(1);
            (await nodes.HistoryAsync("ten_other", "nod_1", Noon.AddHours(-1))).ShouldBeEmpty();
        }
    }
}
