using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Detection;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Storage;
using Medic.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Medic.Server.Tests.Detection.SyntheticSeries;

namespace Medic.Server.Tests.Detection;

/// <summary>The patrol over real metrics history and the real incident record, on both dialects.</summary>
public sealed class EarlyWarningPatrolTests
{
    private const long Memory = 16L << 30;
    private static readonly DateTimeOffset JavaStarted = Now.AddDays(-1);

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed record Fixture(TestDatabase Db, NodeStore Nodes, IIncidentIngest Incidents, IncidentQueries Queries, Clock Clock) : IAsyncDisposable
    {
        public EarlyWarningPatrol Patrol() =>
            new(Db.Database, Nodes, Incidents, Clock, Options.Create(new MedicOptions()), NullLogger<EarlyWarningPatrol>.Instance);

        public async Task<IReadOnlyList<IncidentResponse>> PatrolIncidentsAsync() =>
            (await Queries.ListAsync("ten_1", new IncidentQuery(Source: IncidentSources.Patrol), CancellationToken.None)).Items.OrderBy(i => i.Type).ToList();

        /// <summary>One heartbeat a minute from <paramref name="from"/> to <paramref name="to"/>, through the gateway's own write.</summary>
        public async Task HeartbeatsAsync(string node, DateTimeOffset from, DateTimeOffset to, Func<DateTimeOffset, Metrics> metrics)
        {
            for (var at = from; at <= to; at = at.AddMinutes(1))
            {
                await Nodes.RecordHeartbeatAsync(node, metrics(at), at);
            }
        }

        public ValueTask DisposeAsync() => Db.DisposeAsync();
    }

    private static async Task<Fixture> CreateAsync(string dialect, string dir)
    {
        var db = await TestDatabase.CreateAsync(dialect, dir);
        await new Migrator(db.Database).ApplyAsync();
        await db.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES ('ten_1', 'one', 'One', @at)", new { at = Now.AddDays(-2) });
        await db.ExecuteAsync(
            "INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at) VALUES ('nod_1', 'ten_1', 'web-1', '{}', 'online', @at), ('nod_2', 'ten_1', 'web-2', '{}', 'offline', @at)",
            new { at = Now.AddDays(-2) });
        var clock = new Clock(Now);
        var incidents = new IncidentIngest(db.Database, new IncidentWrites(db.Database, new AuditLog(db.Database, clock)), new IncidentFeed(), clock);
        return new Fixture(db, new NodeStore(db.Database), incidents, new IncidentQueries(db.Database), clock);
    }

    /// <summary>
    /// Until <see cref="SyntheticSeries.Now"/>: / grows 2 GiB/h toward 60 of 100 GiB (full 20 h later) and java leaks 0.5 GiB/h
    /// toward 8 GiB with 6 GiB still available (12 h). After it, both stay where they are.
    /// </summary>
    private static Metrics Growing(DateTimeOffset at)
    {
        double h = Math.Min(0, (at - Now).TotalHours);
        long java = (long)((8 + (0.5 * h)) * GiB);
        return new Metrics(at, 5, 0.2, 0.2, 0.2, Memory, (long)((10 + (0.5 * h)) * GiB), 0, 0,
            [new MountUsage("/", 100L << 30, (long)((60 + (2 * h)) * GiB), 1_000_000, 400_000)], 0, 0, 150, 86400,
            [new ProcessUsage(4242, "java", java, JavaStarted), new ProcessUsage(700, "postgres", 1L << 30, Now.AddDays(-3))]);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_filling_disk_and_a_leaking_process_open_one_warning_each_which_resolve_when_growth_stops(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);
        await f.HeartbeatsAsync("nod_1", Now.AddHours(-6), Now, Growing);
        // A silent server is not forecast, whatever its history says.
        await f.HeartbeatsAsync("nod_2", Now.AddHours(-6), Now.AddMinutes(-30), Growing);
        var patrol = f.Patrol();

        var first = await patrol.SweepAsync(CancellationToken.None);
        var second = await patrol.SweepAsync(CancellationToken.None);

        first.Servers.ShouldBe(1);
        first.Raised.ShouldBe(2);
        second.Raised.ShouldBe(2);
        var open = await f.PatrolIncidentsAsync();
        open.Select(i => (i.Type, i.Severity, i.Status.ToText(), i.Server, i.SignalCount)).ShouldBe(
        [
            (EarlyWarningPatrol.DiskType, "warning", "open", "web-1", 2),
            (EarlyWarningPatrol.MemoryType, "warning", "open", "web-1", 2),
        ]);
        var disk = open[0];
        disk.Fingerprint.ShouldBe("patrol:disk_full_forecast:nod_1:/");
        disk.Title.ShouldStartWith("Disk / on web-1 predicted to run out in ");
        disk.Labels["mount"].ShouldBe("/");
        var evidence = disk.Evidence.ShouldNotBeNull();
        (double.Parse(evidence["slope_per_hour"], System.Globalization.CultureInfo.InvariantCulture) / GiB).ShouldBe(2, tolerance: 0.01);
        DateTimeOffset.Parse(evidence["predicted_full_at"], System.Globalization.CultureInfo.InvariantCulture).ShouldBe(Now.AddHours(20), tolerance: TimeSpan.FromMinutes(5));
        evidence["capacity"].ShouldBe((100L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture));
        int.Parse(evidence["samples"], System.Globalization.CultureInfo.InvariantCulture).ShouldBeInRange(359, 361);
        var memory = open[1];
        memory.Labels["process"].ShouldBe("java");
        memory.Evidence!["pid"].ShouldBe("4242");
        DateTimeOffset.Parse(memory.Evidence["predicted_full_at"], System.Globalization.CultureInfo.InvariantCulture).ShouldBe(Now.AddHours(12), tolerance: TimeSpan.FromMinutes(15));

        // Growth stops: six hours later the whole window is flat.
        await f.HeartbeatsAsync("nod_1", Now.AddMinutes(1), Now.AddHours(6), Growing);
        f.Clock.Now = Now.AddHours(6);
        var flat = await patrol.SweepAsync(CancellationToken.None);

        flat.Cleared.ShouldBe(2);
        (await f.PatrolIncidentsAsync()).Select(i => (i.Type, i.Status.ToText(), i.Resolution)).ShouldBe(
        [
            (EarlyWarningPatrol.DiskType, "resolved", "resolved by patrol"),
            (EarlyWarningPatrol.MemoryType, "resolved", "resolved by patrol"),
        ]);
        (await patrol.SweepAsync(CancellationToken.None)).ShouldBe(new EarlyWarningSweep(1, 4, 0, 0), "nothing is sent for series that stay healthy");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task After_a_restart_the_first_sweep_resolves_warnings_raised_before_it(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);
        await f.HeartbeatsAsync("nod_1", Now.AddHours(-6), Now, Growing);
        (await f.Patrol().SweepAsync(CancellationToken.None)).Raised.ShouldBe(2);

        // Logrotate frees 30 GiB and the disk stays flat for 40 minutes; a new control-plane process takes over.
        await f.HeartbeatsAsync("nod_1", Now.AddMinutes(1), Now.AddMinutes(40), at =>
        {
            var m = Growing(at);
            return m with { Mounts = [m.Mounts[0] with { BytesUsed = 30L << 30 }] };
        });
        f.Clock.Now = Now.AddMinutes(40);
        var sweep = await f.Patrol().SweepAsync(CancellationToken.None);

        sweep.Raised.ShouldBe(1, "java still leaks");
        var incidents = await f.PatrolIncidentsAsync();
        incidents.Single(i => i.Type == EarlyWarningPatrol.DiskType).Status.ToText().ShouldBe("resolved");
        incidents.Single(i => i.Type == EarlyWarningPatrol.MemoryType).Status.ToText().ShouldBe("open");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_server_whose_history_cannot_be_read_does_not_stop_the_others_warnings(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);
        await f.HeartbeatsAsync("nod_1", Now.AddHours(-6), Now, Growing);
        await f.HeartbeatsAsync("nod_2", Now.AddMinutes(-5), Now, Growing);
        await f.Db.ExecuteAsync("UPDATE node_metrics SET metrics = '{\"cpu_percent\": ' WHERE node_id = 'nod_2'");

        var sweep = await f.Patrol().SweepAsync(CancellationToken.None);

        sweep.Servers.ShouldBe(2);
        sweep.Raised.ShouldBe(2);
        (await f.PatrolIncidentsAsync()).Count.ShouldBe(2);
    }
}
